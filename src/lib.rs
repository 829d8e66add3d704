//! scale0: a desktop and CLI manager for scale-to-zero developer environments on AWS
//! (App Runner + Aurora PostgreSQL + ECR), with an embedded local AWS region.
//!
//! Parts (see ../shared/DESIGN.md): `clock` (the injectable clock), `emulator` (the local
//! region), `cli` (subcommands).

pub mod actions;
pub mod backend;
pub mod burst;
pub mod cli;
pub mod clock;
pub mod emulator;
pub mod model;
pub mod ui;

/// The version and the git revision this binary was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SCALE0_GIT_REV"), ")");
