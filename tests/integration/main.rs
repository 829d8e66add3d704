//! Integration tests: the real AWS SDK, the AWS CLI and real HTTP clients against the
//! embedded emulator on 127.0.0.1. One binary for all of them (see Cargo.toml).

mod accounts;
mod accounts_multi;
mod accounts_ui;
mod backend;
mod burst;
mod canary;
mod cli;
mod common;
mod ecs_express;
mod ecs_faults;
mod ecs_sleep;
mod emulator_apprunner;
mod emulator_calibration;
mod emulator_cli;
mod emulator_ecs;
mod emulator_faults;
mod emulator_logs;
mod emulator_rds;
mod emulator_sdk;
mod emulator_wire;
mod emulator_workload;
mod fault_cells;
mod fault_matrix;
mod fault_matrix_app;
mod fuzz;
mod keep_awake;
mod logs;
mod logs_cli;
mod logs_ui;
mod moto;
mod notify;
mod panels;
mod scale;
mod scheduler;
mod ui;
