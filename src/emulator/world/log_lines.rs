//! What the emulated region writes to CloudWatch Logs, by the same rules live and in the
//! demo's history: the app's start-up, access and error lines (one `instance/<id>`
//! stream per instance), App Runner's service events and deployment logs, and the
//! PostgreSQL log of clusters that export it.

use super::World;
use super::service::{AppServer, OperationType, Work};
use crate::emulator::shapes::iso8601;

/// Django's answer to a refused connection, as the seed's log showed it.
pub const DEFAULT_DB_ERROR: &str =
    "FATAL:  remaining connection slots are reserved for non-replication superuser connections";

impl World {
    pub fn app_log_group(&self, i: usize) -> String {
        let s = &self.services[i];
        if let Some(x) = &s.express {
            return x.log_group.clone();
        }
        format!("/aws/apprunner/{}/{}/application", s.name, s.id)
    }

    pub fn service_log_group(&self, i: usize) -> String {
        let s = &self.services[i];
        // ECS writes no service log: its events are in DescribeServices.
        if let Some(x) = &s.express {
            return x.log_group.clone();
        }
        format!("/aws/apprunner/{}/{}/service", s.name, s.id)
    }

    pub fn db_log_group(&self, c: usize) -> String {
        format!("/aws/rds/cluster/{}/postgresql", self.clusters[c].id)
    }

    /// Creates the groups that exist from the resources' creation on (App Runner's for
    /// every service, PostgreSQL's where log export is on), even before any line.
    pub fn ensure_log_groups(&mut self) {
        for i in 0..self.services.len() {
            let t = self.services[i].created_at;
            let (app, service) = (self.app_log_group(i), self.service_log_group(i));
            self.logs.ensure_group(&app, t);
            self.logs.ensure_group(&service, t);
        }
        for c in 0..self.clusters.len() {
            if self.clusters[c].log_export {
                let (group, t) = (self.db_log_group(c), self.clusters[c].created_at);
                self.logs.ensure_group(&group, t);
            }
        }
    }

    /// The stream of the service's instance `k`, starting the instance (and writing its
    /// start-up lines) if it is new.
    pub fn instance_stream(&mut self, i: usize, k: usize, t: f64) -> String {
        while self.services[i].instance_ids.len() <= k {
            let id = self.random_hex(32);
            self.services[i].instance_ids.push(id.clone());
            let group = self.app_log_group(i);
            let stream = format!("instance/{id}");
            for line in startup_lines(self.services[i].app.server, t) {
                self.logs.put(&group, &stream, t, line);
            }
        }
        format!("instance/{}", self.services[i].instance_ids[k])
    }

    /// Instances beyond the first `keep` went away (scale-in, pause, a new deployment).
    pub fn retire_instances(&mut self, i: usize, keep: usize) {
        self.services[i].instance_ids.truncate(keep);
    }

    /// Instances `0..count` are up, each with its stream.
    pub fn start_instances(&mut self, i: usize, count: usize, t: f64) {
        for k in 0..count {
            self.instance_stream(i, k, t);
        }
    }

    /// One answered request: an access line (sampled under load) and, for a database
    /// failure, Django's traceback with PostgreSQL's message.
    pub fn log_request(
        &mut self,
        i: usize,
        instance: Option<usize>,
        t: f64,
        status: u16,
        db_error: Option<&str>,
    ) {
        let k = instance.unwrap_or_else(|| {
            let active = self.services[i].active_instances.max(1) as usize;
            self.logs_round_robin = self.logs_round_robin.wrapping_add(1);
            self.logs_round_robin % active
        });
        let stream = self.instance_stream(i, k, t);
        let group = self.app_log_group(i);
        let server = self.services[i].app.server;
        if status >= 500 {
            let message = db_error.unwrap_or(DEFAULT_DB_ERROR);
            let host = self.services[i]
                .cluster
                .clone()
                .unwrap_or_else(|| "localhost".into());
            self.logs
                .put(&group, &stream, t, django_traceback(&host, message));
        }
        self.logs
            .put_sampled(&group, &stream, t, &access_line(server, t, status));
    }

    pub fn log_service_event(&mut self, i: usize, t: f64, message: &str) {
        let group = self.service_log_group(i);
        self.logs
            .put(&group, "events", t, format!("[AppRunner] {message}"));
    }

    fn log_deployment(&mut self, i: usize, operation_id: &str, t: f64, message: &str) {
        let group = self.service_log_group(i);
        let stream = format!("deployment/{}", operation_id.replace('-', ""));
        self.logs
            .put(&group, &stream, t, format!("[AppRunner] {message}"));
    }

    /// An operation App Runner just started.
    pub fn log_operation_started(&mut self, i: usize, kind: OperationType, id: &str, t: f64) {
        match kind {
            OperationType::PauseService => self.log_service_event(i, t, "Pausing service."),
            OperationType::ResumeService => self.log_service_event(i, t, "Resuming service."),
            _ => {
                let image = self.services[i].image_identifier.clone();
                let trigger = kind.as_aws();
                let compact = id.replace('-', "");
                self.log_service_event(
                    i,
                    t,
                    &format!(
                        "Deployment with ID : {compact} started. Triggering event : {trigger}"
                    ),
                );
                self.log_deployment(
                    i,
                    id,
                    t,
                    &format!(
                        "Deployment with ID : {compact} started. Triggering event : {trigger}"
                    ),
                );
                self.log_deployment(i, id, t, "Service status is set to OPERATION_IN_PROGRESS.");
                self.log_deployment(
                    i,
                    id,
                    t,
                    &format!("Pulling image {image} from ECR repository."),
                );
            }
        }
    }

    /// Work App Runner finished at `t` (operation id when it is an API operation).
    pub fn log_work_finished(&mut self, i: usize, work: &Work, id: Option<&str>, t: f64) {
        let compact = id.map(|s| s.replace('-', "")).unwrap_or_default();
        match work {
            Work::Pause => self.log_service_event(i, t, "Service paused successfully."),
            Work::Resume => self.log_service_event(i, t, "Service resumed successfully."),
            Work::Maintenance => self.log_service_event(i, t, "Maintenance completed."),
            Work::Deploy { fails, .. } => {
                let Some(id) = id else { return };
                self.log_deployment(
                    i,
                    id,
                    t,
                    "Successfully pulled your application image from ECR.",
                );
                self.log_deployment(
                    i,
                    id,
                    t,
                    "Provisioning instances and deploying image for publicly accessible service.",
                );
                self.log_deployment(
                    i,
                    id,
                    t,
                    "Performing health check on protocol `TCP` [Port: '8000'].",
                );
                if *fails {
                    self.log_deployment(
                        i,
                        id,
                        t,
                        "Health check failed on protocol `TCP` [Port: '8000']. Check your configured port number. For more information, see the application logs.",
                    );
                    self.log_deployment(
                        i,
                        id,
                        t,
                        "Your application stopped or failed to start. See logs for more information. Container exit code: 1",
                    );
                    self.log_deployment(i, id, t, "Failed to deploy your application image.");
                    let line = format!(
                        "Deployment with ID : {compact} failed. Failure reason : Health check failed. Rolling back."
                    );
                    self.log_deployment(i, id, t, &line);
                    self.log_service_event(i, t, &line);
                } else {
                    for line in [
                        "Health check is successful. Routing traffic to application.",
                        "Successfully routed incoming traffic to application.",
                        "Deployment completed successfully.",
                        "Service status is set to RUNNING.",
                    ] {
                        self.log_deployment(i, id, t, line);
                    }
                    let line = format!("Deployment with ID : {compact} successful.");
                    self.log_deployment(i, id, t, &line);
                    self.log_service_event(i, t, &line);
                }
            }
            Work::Rollback => {
                let line = format!("Rollback of deployment with ID : {compact} completed.");
                if let Some(id) = id {
                    self.log_deployment(i, id, t, &line);
                }
                self.log_service_event(i, t, &line);
            }
        }
    }

    /// A PostgreSQL log line, when the cluster exports its log; `sampled` for lines a
    /// flood of clients could write thousands of times a second.
    pub fn log_db(&mut self, c: usize, t: f64, level_and_text: &str, sampled: bool) {
        if !self.clusters[c].log_export {
            return;
        }
        let group = self.db_log_group(c);
        let stream = self.clusters[c].writer_id.clone();
        let stamp = iso8601(t).replace('T', " ").replace('Z', " UTC");
        let line = format!(
            "{stamp}:10.0.1.23(52144):dbuser@{}:[{}]:{level_and_text}",
            self.clusters[c].id,
            4000 + (t as i64 % 1000)
        );
        if sampled {
            self.logs.put_sampled(&group, &stream, t, &line);
        } else {
            self.logs.put(&group, &stream, t, line);
        }
    }

    /// The PostgreSQL log side of an RDS event (pause, resume, scaling).
    pub(super) fn log_db_event(&mut self, c: usize, message: &str, t: f64) {
        let lines: &[&str] = if message.contains("is being paused") || message.contains("pausing") {
            &[
                "LOG:  received fast shutdown request",
                "LOG:  aborting any active transactions",
            ]
        } else if message.contains("is paused") || message.contains("paused.") {
            &["LOG:  database system is shut down"]
        } else if message.contains("being resumed") || message.contains("resuming") {
            &["LOG:  database system was shut down; starting up"]
        } else if message.contains("resumed") {
            &["LOG:  database system is ready to accept connections"]
        } else if message.contains("has scaled") {
            &["LOG:  database system is ready to accept connections (new capacity)"]
        } else {
            &[]
        };
        for line in lines {
            self.log_db(c, t, line, false);
        }
    }
}

fn startup_lines(server: AppServer, t: f64) -> Vec<String> {
    match server {
        AppServer::ThreadPerConnection => vec![
            "Watching for file changes with StatReloader".into(),
            "Performing system checks...".into(),
            "System check identified no issues (0 silenced).".into(),
            iso8601(t),
            "Django version 5.2, using settings 'scale0.settings.dev'".into(),
            "Starting development server at http://0.0.0.0:8000/".into(),
            "Quit the server with CONTROL-C.".into(),
        ],
        AppServer::Gunicorn { workers, .. } => {
            let stamp = gunicorn_stamp(t);
            let mut lines = vec![
                format!("[{stamp}] [1] [INFO] Starting gunicorn 23.0.0"),
                format!("[{stamp}] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)"),
                format!("[{stamp}] [1] [INFO] Using worker: gthread"),
            ];
            for w in 0..workers.max(1) {
                lines.push(format!(
                    "[{stamp}] [{}] [INFO] Booting worker with pid: {}",
                    7 + w,
                    7 + w
                ));
            }
            lines
        }
    }
}

fn gunicorn_stamp(t: f64) -> String {
    iso8601(t).replace('T', " ").replace('Z', " +0000")
}

/// The access line of each server's own format (runserver's, or gunicorn's common log).
fn access_line(server: AppServer, t: f64, status: u16) -> String {
    let bytes = if status == 200 { 6792 } else { 145 };
    let stamp = iso8601(t);
    match server {
        AppServer::ThreadPerConnection => format!("[{stamp}] \"GET / HTTP/1.1\" {status} {bytes}"),
        AppServer::Gunicorn { .. } => format!(
            "169.254.175.250 - - [{stamp}] \"GET / HTTP/1.1\" {status} {bytes} \"-\" \"scale0-burst\""
        ),
    }
}

/// Django's log of a 500 from a refused connection: one event, the traceback's lines
/// ending in psycopg's OperationalError with PostgreSQL's message.
fn django_traceback(host: &str, message: &str) -> String {
    format!(
        "Internal Server Error: /\n\
         Traceback (most recent call last):\n  \
         File \"/usr/local/lib/python3.12/site-packages/django/db/backends/base/base.py\", line 279, in ensure_connection\n    \
         self.connect()\n  \
         File \"/usr/local/lib/python3.12/site-packages/psycopg/connection.py\", line 119, in connect\n    \
         raise last_ex.with_traceback(None)\n\
         psycopg.OperationalError: connection failed: connection to server at \"{host}.cluster-c0ffee.rds.amazonaws.com\" (10.0.1.23), port 5432 failed: {message}\n\
         \n\
         The above exception was the direct cause of the following exception:\n\n\
         django.db.utils.OperationalError: connection failed: {message}"
    )
}
