use std::process::ExitCode;

fn main() -> ExitCode {
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
