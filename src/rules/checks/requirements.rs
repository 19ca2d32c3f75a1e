//! `requirements-drift`: the target environment against the project's
//! requirements (`check --requirements FILE`), as pip would see it: the
//! first distribution of each name along the interpreter's sys.path, markers
//! evaluated for that interpreter.

use super::packages::{marker_env, python_cmd, version_of};
use crate::requirements::Required;
use crate::rules::{CheckCtx, Fix, Hit, Severity};
use crate::shell::Cmd;
use crate::snapshot::Interpreter;
use pep440_rs::{Operator, Version};
use pep508_rs::VersionOrUrl;
use std::str::FromStr;

/// `numpy<2,>=1.23.5`, as pip prints a requirement (no marker).
fn spec_of(r: &Required) -> String {
    let q = &r.requirement;
    let mut s = q.name.to_string();
    if !q.extras.is_empty() {
        let extras: Vec<String> = q.extras.iter().map(ToString::to_string).collect();
        s.push_str(&format!("[{}]", extras.join(",")));
    }
    match &q.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(v)) => s.push_str(&v.to_string()),
        Some(VersionOrUrl::Url(u)) => s.push_str(&format!(" @ {u}")),
        None => {}
    }
    s
}

/// `==X.Y.Z` (not `==X.*`), `===X`, or a direct URL.
fn pinned(r: &Required) -> bool {
    match &r.requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(v)) => v
            .iter()
            .any(|s| matches!(s.operator(), Operator::Equal | Operator::ExactEqual)),
        Some(VersionOrUrl::Url(_)) => true,
        None => false,
    }
}

pub fn requirements_drift(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    if ctx.requirements.is_empty() {
        return Vec::new();
    }
    let tf = crate::knowledge::tensorflow();
    let env = marker_env(ctx.snapshot, it);
    let inst = &ctx.model(it).installed;
    let py = python_cmd(it);
    let mut out = Vec::new();
    for r in ctx.requirements {
        let q = &r.requirement;
        // Markers are judged for this interpreter; without its version they
        // cannot be, and the requirement is judged as if they held.
        if let Some(env) = &env {
            if !q.applies(env, &[]) {
                continue;
            }
        }
        let name = q.name.to_string();
        let spec = spec_of(r);
        let installed = inst.get(name.as_str()).map(|(d, _)| *d);
        match installed {
            None => out.push(Hit {
                message: format!(
                    "Requirement `{spec}` (`{}`) is not installed in `{}`",
                    r.origin(),
                    it.prefix
                ),
                paths: vec![r.file.clone()],
                fix: Fix::run(
                    "Install it",
                    vec![Cmd::new(&py)
                        .args(["-m", "pip", "install"])
                        .arg(&spec)
                        .build()],
                ),
                ..Default::default()
            }),
            Some(d) => {
                if let Some(VersionOrUrl::VersionSpecifier(want)) = &q.version_or_url {
                    let have = d.version.as_deref().and_then(|v| Version::from_str(v).ok());
                    if let Some(have) = have {
                        if !want.contains(&have) {
                            out.push(Hit {
                                message: format!(
                                    "Requirement `{spec}` (`{}`) is not met: `{}` has {} {}",
                                    r.origin(),
                                    it.prefix,
                                    d.name.as_deref().unwrap_or(&name),
                                    version_of(d)
                                ),
                                paths: vec![d.path.clone(), r.file.clone()],
                                fix: Fix::run(
                                    "Install the version required",
                                    vec![Cmd::new(&py)
                                        .args(["-m", "pip", "install"])
                                        .arg(&spec)
                                        .build()],
                                ),
                                ..Default::default()
                            });
                        }
                    }
                }
            }
        }
        if tf.is_variant(name.as_str()) && !pinned(r) {
            let pin = match installed.and_then(|d| d.version.as_deref()) {
                Some(v) => format!("{name}=={v}"),
                None => format!("{name}==X.Y.Z"),
            };
            out.push(Hit {
                message: format!(
                    "TensorFlow is not pinned: `{spec}` in `{}` lets pip install the newest release with a wheel for each interpreter and platform, so `{}` and the next install can differ (and with it NumPy and protobuf)",
                    r.origin(),
                    it.prefix
                ),
                paths: vec![r.file.clone()],
                fix: format!("Pin the release you tested: write `{pin}` in `{}`", r.file).into(),
                severity: Some(Severity::Warning),
                ..Default::default()
            });
        }
    }
    out
}
