//! Records the git revision the binary is built from, for `scale0 --version`.
fn main() {
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SCALE0_GIT_REV={revision}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");

    // Packed relative relocations (DT_RELR): the loader would otherwise read ~2.4 MB of
    // relocation entries at every start: a third of a short command's memory and of a
    // burst's (`bench/burst_vs_oha.sh` prints its peak). Needs glibc 2.36 to run (the
    // .deb declares it); SCALE0_PLAIN_RELOCS=1 builds without, for an older glibc.
    println!("cargo:rerun-if-env-changed=SCALE0_PLAIN_RELOCS");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let plain = std::env::var_os("SCALE0_PLAIN_RELOCS").is_some_and(|v| v == "1");
    if target_os == "linux" && target_env == "gnu" && !plain {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
