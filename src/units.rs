//! Sizes as people read them. Shared by the rules (a cache's size in a
//! finding) and the renderers, below both.

/// `1.2 GB`: decimal units, as `df -H` and pip print them.
pub fn bytes_si(n: u64) -> String {
    scaled(n, 1000.0, ["B", "KB", "MB", "GB", "TB"])
}

/// `1.2 GiB`: binary units, as `du -h` prints them (the report).
pub fn bytes_iec(n: u64) -> String {
    scaled(n, 1024.0, ["B", "KiB", "MiB", "GiB", "TiB"])
}

fn scaled(n: u64, step: f64, units: [&str; 5]) -> String {
    let mut v = n as f64;
    let mut i = 0;
    while v >= step && i < units.len() - 1 {
        v /= step;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_both_unit_systems() {
        assert_eq!(bytes_si(999), "999 B");
        assert_eq!(bytes_si(1_500_000), "1.5 MB");
        assert_eq!(bytes_iec(512), "512 B");
        assert_eq!(bytes_iec(3 << 30), "3.0 GiB");
        assert_eq!(bytes_iec(u64::MAX), "16777216.0 TiB");
    }
}
