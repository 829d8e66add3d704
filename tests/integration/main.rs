//! Integration tests: the real AWS SDK, the AWS CLI and real HTTP clients against the
//! embedded emulator on 127.0.0.1. One binary for all of them (see Cargo.toml).

mod backend;
mod burst;
mod cli;
mod common;
mod emulator_calibration;
mod emulator_cli;
mod emulator_faults;
mod emulator_logs;
mod emulator_sdk;
mod emulator_wire;
mod emulator_workload;
mod keep_awake;
mod moto;
mod panels;
mod scheduler;
mod ui;
