//! Writes the CRDs generated from the Rust types to `crds/` and `charts/slb-operator/crds/`.

use std::path::Path;

use anyhow::Context as _;
use slb_operator::crd::{CRD_DIRS, crd_files};

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = crd_files().context("serializing the CRDs")?;
    for dir in CRD_DIRS {
        let dir = root.join(dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (file_name, yaml) in &files {
            let path = dir.join(file_name);
            std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
