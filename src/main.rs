use std::process::ExitCode;

fn main() -> ExitCode {
    match envdoctor::app::run(std::env::args_os()) {
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
