use std::process::ExitCode;

fn main() -> ExitCode {
    match envdoctor::app::run(std::env::args_os()) {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`envdoctor scan | head`) is not a failure.
        Err(envdoctor::Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("envdoctor: error: {e}");
            ExitCode::from(2)
        }
    }
}
