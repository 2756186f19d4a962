//! Fails when the committed CRDs differ from what the Rust types generate.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use slb_operator::crd::{CRD_DIRS, crd_files};

#[test]
fn committed_crds_match_the_rust_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = crd_files().expect("the CRDs serialize");
    let expected_names: BTreeSet<String> = generated.iter().map(|(name, _)| name.clone()).collect();
    for dir in CRD_DIRS {
        let dir = root.join(dir);
        let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| {
                panic!(
                    "cannot read {}: {e}; run `cargo run --bin crdgen`",
                    dir.display()
                )
            })
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".yaml"))
            .collect();
        assert_eq!(
            on_disk,
            expected_names,
            "the CRD files in {} are not the generated set; run `cargo run --bin crdgen` and delete stale files",
            dir.display()
        );
        for (name, yaml) in &generated {
            let path = dir.join(name);
            let committed = std::fs::read_to_string(&path).expect("a committed CRD");
            assert!(
                &committed == yaml,
                "{} differs from the Rust types; run `cargo run --bin crdgen` and commit the result",
                path.display()
            );
        }
    }
}
