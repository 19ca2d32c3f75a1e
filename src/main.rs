use std::process::ExitCode;

fn main() -> ExitCode {
    tune_malloc();
    std::panic::set_hook(Box::new(envdoctor::panic_hook));
    // A bug is envdoctor's own failure: exit 2 (the hook said what), never
    // the 101 of an unwound panic that a CI gate might read as "findings".
    let run = std::panic::catch_unwind(|| envdoctor::app::run(std::env::args_os()));
    let Ok(result) = run else {
        return ExitCode::from(2);
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`envdoctor scan | head`) is not a failure.
        Err(envdoctor::Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Errors quote files and requirements: redacted and escaped
            // like everything else envdoctor writes.
            let msg = envdoctor::redact::text(&e.to_string());
            eprintln!("envdoctor: error: {}", envdoctor::render::clean(&msg));
            ExitCode::from(2)
        }
    }
}

/// glibc grows each thread's malloc arena a few pages at a time, each step
/// an `mprotect` that takes the address-space lock every other thread's
/// page fault also needs: 4,700 of them in one `check --all` of 50 venvs.
/// Growing by 16 MiB of address space at a time makes it about ten. That is
/// address space, not memory: pages never touched cost nothing.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt(3) sets an allocator parameter; called first thing in
    // main, before any thread exists. It touches no memory of ours.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}
