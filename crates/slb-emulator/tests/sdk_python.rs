//! The official Python SDKs, unchanged, drive a full lifecycle against an in-process emulator.
//! The test fails (rather than skips) when the virtualenv with the SDKs cannot be provided.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use slb_emulator::{
    Config, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Emulator, TransitionDelays,
};
use tokio::process::Command;

fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtualenv's python, from `hack/python-venv.sh` (which creates the virtualenv on first use).
async fn sdk_python() -> String {
    let script = repository_root().join("hack/python-venv.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let python = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(
        !python.is_empty(),
        "{} printed no python path",
        script.display()
    );
    python
}

async fn run_script(script: &str, extra_args: &[&str]) -> String {
    let python = sdk_python().await;
    let config = Config {
        delays: TransitionDelays::uniform(Duration::from_millis(50)),
        ..Config::for_tests()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(script);
    let output = Command::new(&python)
        .arg(&script)
        .arg(emulator.endpoint())
        .arg(DEMO_ACCESS_KEY_ID)
        .arg(DEMO_ACCESS_KEY_SECRET)
        .args(extra_args)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        script.display()
    );
    emulator.shutdown().await.unwrap();
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_python_sdk_full_lifecycle() {
    let stdout = run_script("lifecycle.py", &[]).await;
    assert!(stdout.contains("LIFECYCLE OK"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibabacloud_slb20140515_client_lifecycle_hmac_sha1() {
    let stdout = run_script("lifecycle_tea.py", &["v2"]).await;
    assert!(stdout.contains("TEA LIFECYCLE OK (v2)"), "{stdout}");
}

/// The newer client with its default configuration signs with ACS3-HMAC-SHA256 headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibabacloud_slb20140515_client_lifecycle_acs3() {
    let stdout = run_script("lifecycle_tea.py", &["acs3"]).await;
    assert!(stdout.contains("TEA LIFECYCLE OK (acs3)"), "{stdout}");
}
