//! Installs the front end's npm dependencies from `web/package-lock.json` into the build folder
//! (never the source tree) and leaves `echarts.min.js` in `OUT_DIR` for the binary to embed, so
//! the dashboard works offline and needs no CDN.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let web = Path::new("web");
    for file in ["package.json", "package-lock.json"] {
        println!("cargo:rerun-if-changed=web/{file}");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let install = out.join("web");
    if let Err(e) = install_echarts(web, &install) {
        panic!(
            "the dashboard embeds ECharts from npm and installing it failed: {e}\n\
             Install Node.js 20 with npm and make the npm registry reachable (or its cache \
             ~/.npm filled), then build again."
        );
    }
    let echarts = install.join("node_modules/echarts/dist/echarts.min.js");
    if let Err(e) = std::fs::copy(&echarts, out.join("echarts.min.js")) {
        panic!("cannot copy {}: {e}", echarts.display());
    }
}

fn install_echarts(web: &Path, install: &Path) -> Result<(), String> {
    std::fs::create_dir_all(install).map_err(|e| e.to_string())?;
    let mut changed = false;
    for file in ["package.json", "package-lock.json"] {
        let source = std::fs::read(web.join(file)).map_err(|e| format!("web/{file}: {e}"))?;
        if std::fs::read(install.join(file)).ok().as_deref() != Some(source.as_slice()) {
            std::fs::write(install.join(file), source).map_err(|e| e.to_string())?;
            changed = true;
        }
    }
    if !changed
        && install
            .join("node_modules/echarts/dist/echarts.min.js")
            .is_file()
    {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(install)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm ci` exited with {status}"))
    }
}
