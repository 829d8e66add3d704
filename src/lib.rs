//! scale0: a desktop and CLI manager for scale-to-zero developer environments on AWS
//! (App Runner + Aurora PostgreSQL + ECR), with an embedded local AWS region.
//!
//! Parts (see ../shared/DESIGN.md): `clock` (the injectable clock), `emulator` (the local
//! region), `cli` (subcommands).

pub mod cli;
pub mod clock;
pub mod emulator;
