//! Command-line definitions only; `app` gives them meaning.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "envdoctor",
    version = env!("ENVDOCTOR_VERSION"),
    about = "A doctor for Python environments: finds every interpreter, venv and conda env by reading the disk, and says what is broken and how to fix it",
    after_help = "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 envdoctor itself failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Read DIR as the filesystem root (an extracted container image, a chroot)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Judge for this user (a name or uid from the root's /etc/passwd)
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Set an environment variable for the inspection (repeatable; most useful with --root)
    #[arg(long = "env", global = true, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub env: Vec<(String, String)>,
    /// Run each interpreter (with a timeout) to confirm the static results
    #[arg(long, global = true)]
    pub exec: bool,
    /// When to use colors
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every interpreter and environment found, and what PATH runs
    Scan(ScanArgs),
    /// Check the active environment (or --python, or --all) and report findings
    Check(CheckArgs),
    /// List the rules
    Rules(RulesArgs),
    /// Print one rule's documentation
    Explain(ExplainArgs),
    /// Show every copy of an import name or distribution the environment can see, and which one Python loads
    Why(WhyArgs),
    /// One Markdown document for a support ticket: host, interpreters, PATH, findings
    Report(ReportArgs),
    /// Print a completion script for a shell (`envdoctor generate-shell-completion bash > ...`)
    GenerateShellCompletion(CompletionArgs),
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ScanFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// Show each interpreter's sys.path
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code scanning uploads
    Sarif,
    /// GitHub Actions workflow commands (`::error title=...::message`)
    Github,
    /// JUnit XML: one testcase per rule and environment
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    /// The lowest severity that fails the run, if any does.
    pub fn threshold(self) -> Option<crate::rules::Severity> {
        use crate::rules::Severity;
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check this interpreter (or environment directory) instead of the active one
    #[arg(long, value_name = "PATH", conflicts_with = "all")]
    pub python: Option<PathBuf>,
    /// Check every discovered interpreter and environment
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Exit 1 when a finding at or above this severity is reported
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Check a snapshot written by `envdoctor scan --format json` instead of this machine
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Check that the environment satisfies these requirements (a requirements.txt, or a pyproject.toml's `[project] dependencies`; repeatable)
    #[arg(long, value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Which rules run and how severe they are; merged over the configuration file.
#[derive(Debug, Args, Clone, Default)]
pub struct RuleArgs {
    /// Run only these rules (names or codes, comma-separated or repeated); replaces the config's `select`
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules (names or codes, comma-separated or repeated)
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Change a rule's severity: NAME=error|warning|info|off (repeatable)
    #[arg(long, value_name = "RULE=LEVEL", value_parser = parse_key_value)]
    pub severity: Vec<(String, String)>,
    /// Read this configuration file instead of looking for `envdoctor.toml` or `pyproject.toml` from the current directory upward
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore configuration files
    #[arg(long)]
    pub no_config: bool,
}

impl RuleArgs {
    /// The flags as the configuration layer takes them.
    pub fn overrides(&self) -> crate::config::Overrides {
        crate::config::Overrides {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            severity: self.severity.clone(),
            config: self.config.clone(),
            no_config: self.no_config,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the report for a snapshot written by `envdoctor scan --format json` instead of this machine
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule name (`broken-venv`) or code (`ED101`)
    pub rule: String,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// An import name (`tensorflow`, `google.protobuf`) or distribution name (`tensorflow-gpu`)
    pub name: String,
    /// The interpreter (or environment directory) to ask about, instead of the active one
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Answer from a snapshot written by `envdoctor scan --format json` instead of this machine
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
}
