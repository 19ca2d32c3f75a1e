//! The README shows what `check` prints, captured from the binary by this
//! test, which fails when the README drifts from it (as ripgrep and uv keep
//! their docs honest). `ENVDOCTOR_BLESS=1 cargo nextest run --test readme`
//! rewrites the README's blocks from the binary.

mod support;

use support::*;

fn block(readme: &str, name: &str) -> Option<(usize, usize)> {
    let begin = format!("<!-- {name}:begin -->\n");
    let end = format!("<!-- {name}:end -->");
    let b = readme.find(&begin)? + begin.len();
    let e = b + readme[b..].find(&end)?;
    Some((b, e))
}

fn captured(sb: &Sandbox, args: &[&str]) -> String {
    let mut c = sb.envdoctor();
    c.args(args).env("COLUMNS", "100");
    let out = c.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).replace(sb.dir.path().to_str().unwrap(), "/home/me");
    // The machine's own patch release of 3.12 (pyenv's here).
    let re = regex::Regex::new(r"3\.12\.\d+").unwrap();
    let text = re.replace_all(&text, "3.12.1").into_owned();
    format!(
        "```text\n$ envdoctor {}\n{}```\n",
        args.join(" ")
            .replace(sb.dir.path().to_str().unwrap(), "/home/me"),
        text
    )
}

#[test]
fn the_readme_shows_what_check_prints() {
    let sb = Sandbox::new();
    let venv = sb.path("proj/.venv");
    make_venv(&python("3.12"), &venv, &[]);
    let wheels = sb.path("wheels");
    let app = Wheel::new("webapp", "1.0")
        .package("webapp")
        .requires("requests>=2.31")
        .requires("flask>=3")
        .build(&wheels);
    let old = Wheel::new("flask", "2.3.3").package("flask").build(&wheels);
    pip_install(
        &venv.join("bin/python"),
        &[app.to_str().unwrap(), old.to_str().unwrap()],
    );
    let v = venv.to_str().unwrap().to_string();
    let broken = captured(&sb, &["check", "--python", &v]);
    // Healthy: the same venv once the fixes are pasted.
    let req = Wheel::new("requests", "2.32.3")
        .package("requests")
        .build(&wheels);
    let new = Wheel::new("flask", "3.0.3").package("flask").build(&wheels);
    pip_install(
        &venv.join("bin/python"),
        &[req.to_str().unwrap(), new.to_str().unwrap()],
    );
    let healthy = captured(&sb, &["check", "--python", &v]);

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let mut readme = std::fs::read_to_string(&path).unwrap();
    let bless = std::env::var_os("ENVDOCTOR_BLESS").is_some();
    for (name, now) in [("check-broken", &broken), ("check-healthy", &healthy)] {
        let (b, e) = block(&readme, name)
            .unwrap_or_else(|| panic!("README has no `<!-- {name}:begin -->` block"));
        if bless {
            readme.replace_range(b..e, now);
        } else {
            assert_eq!(
                &readme[b..e],
                now.as_str(),
                "README block `{name}` differs from what envdoctor prints; rerun with ENVDOCTOR_BLESS=1"
            );
        }
    }
    if bless {
        std::fs::write(&path, readme).unwrap();
    }
}
