//! `slb-operator run` fails at start-up with a clear message, not a panic, when the credentials are
//! missing or unreadable. No cluster is needed: the credentials are checked first.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output};

fn run_operator(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args(["run", "--cluster-id=c1", "--metrics-addr=127.0.0.1:0"])
        .args(extra)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("SLB_CREDENTIALS_FILE")
        .output()
        .expect("the binary runs")
}

fn assert_clear_failure(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
}

#[test]
fn missing_credentials_are_a_clear_start_up_error() {
    let output = run_operator(&[]);
    assert_clear_failure(&output, "cannot load the SLB credentials");
    assert_clear_failure(&output, "ALIBABA_CLOUD_ACCESS_KEY_ID is not set");
}

#[test]
fn an_unreadable_credentials_file_is_a_clear_start_up_error() {
    let output = run_operator(&["--credentials-file=/nonexistent/slb-credentials.json"]);
    assert_clear_failure(
        &output,
        "cannot read credentials file /nonexistent/slb-credentials.json",
    );
}

#[test]
fn a_malformed_credentials_file_does_not_echo_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    std::fs::write(&path, r#"{"accessKeyId": "id", "secret": "hunter2"}"#).unwrap();
    let output = run_operator(&[&format!("--credentials-file={}", path.display())]);
    assert_clear_failure(&output, "is not {\"accessKeyId\"");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2"));
}
