//! Starting actions: a verb from the action table (its precondition, confirmation and
//! worker command), keep-awake, resume-then-deploy, bursts, and what the window shows
//! while an action runs.

use super::App;
use super::worker::Command;
use crate::actions::{self, Action, Verb};
use crate::backend::ImageRef;
use crate::model::{EnvKey, Environment};

impl App {
    /// Runs a verb of the action table, if its precondition holds now.
    pub(super) fn invoke(&mut self, ctx: &egui::Context, verb: Verb) {
        self.palette = None;
        let env = self.selected_env().cloned();
        if let Err(why) = actions::precondition(verb, &self.context(env.as_ref())) {
            self.notify(format!("{}: not now: {why}", verb.label()), false);
            return;
        }
        let url = env
            .as_ref()
            .and_then(|e| e.service.as_ref())
            .and_then(|s| s.http_url());
        match verb {
            Verb::Refresh => self.refresh_due = 0.0,
            Verb::Settings => self.settings_open = !self.settings_open,
            Verb::OpenDemo => {
                self.settings_open = false;
                self.reconnect(ctx, true);
            }
            Verb::Palette => self.palette = Some(String::new()),
            Verb::Help => self.help = !self.help,
            Verb::History => self.show_history = !self.show_history,
            Verb::KeepAwake => self.keep_awake(self.worker.now() + 7200.0),
            Verb::Why => self.request_new_details(),
            Verb::OpenUrl => {
                if let Some(url) = url {
                    ctx.open_url(egui::OpenUrl::new_tab(url));
                }
            }
            Verb::CopyUrl => {
                if let Some(url) = url {
                    ctx.copy_text(url.clone());
                    self.notify(format!("copied {url}"), true);
                }
            }
            Verb::OpenConsole => {
                if let Some(url) = env
                    .as_ref()
                    .and_then(|e| e.service.as_ref())
                    .and_then(|s| s.console_url.clone())
                {
                    ctx.open_url(egui::OpenUrl::new_tab(url));
                }
            }
            Verb::Burst => {
                if let (Some(url), Some(e)) = (url, &env) {
                    self.start_burst(url, e.key.clone());
                }
            }
            Verb::DeployImage => match (self.image_choice.clone(), env) {
                (Some(reference), Some(env)) => {
                    let image = if reference.starts_with("sha256:") {
                        ImageRef::Digest(reference)
                    } else {
                        ImageRef::Tag(reference)
                    };
                    let action = Action::DeployImage {
                        image,
                        resume: false,
                        wait: true,
                    };
                    self.confirm = Some((env, action));
                }
                _ => self.notify("Deploy image: choose an image first".into(), false),
            },
            other => {
                if let (Some(action), Some(env)) = (Action::from_verb(other), env) {
                    if other.spec().confirm {
                        self.confirm = Some((env, action));
                    } else {
                        self.start(env, action);
                    }
                }
            }
        }
    }

    /// Resume, then deploy the newer image at the tag (one deploy with resume: in order),
    /// after the same confirmation a deploy asks for.
    pub(super) fn resume_and_deploy_newer(&mut self) {
        let Some(env) = self.selected_env().cloned() else {
            return;
        };
        if let Err(why) = actions::precondition(Verb::ResumeService, &self.context(Some(&env))) {
            return self.notify(format!("Resume: not now: {why}"), false);
        }
        match newer_while_paused(&env) {
            Some(tag) => {
                let action = Action::DeployImage {
                    image: ImageRef::Tag(tag),
                    resume: true,
                    wait: true,
                };
                self.confirm = Some((env, action));
            }
            None => self.notify(
                format!("{}: no newer image is waiting", env.key.name),
                false,
            ),
        }
    }

    /// Keeps the selected environment awake until `until`, set by this computer's user.
    pub(super) fn keep_awake(&mut self, until: f64) {
        if let Some(env) = self.selected_env().cloned() {
            let by = std::env::var("USER").unwrap_or_else(|_| "someone".into());
            self.start(env, Action::KeepAwake { until, by });
        }
    }

    pub(super) fn start(&mut self, env: Environment, action: Action) {
        let running = Running {
            label: action.label(),
            started: self.worker.now(),
            timeout: action.verb().timeout(),
        };
        self.busy.insert(env.key.clone(), running);
        self.notify(
            format!("{}: {} started", env.key.name, action.label()),
            true,
        );
        self.worker.send(Command::Act { env, action });
        self.refresh_due = 0.0;
    }

    fn start_burst(&mut self, url: String, env: EnvKey) {
        let config = match self.burst.form.config(url) {
            Ok(c) => c,
            Err(e) => return self.notify(format!("burst refused: {e}"), false),
        };
        self.burst.running = true;
        self.burst.snapshot = None;
        self.burst.started_at = self.worker.now();
        self.burst.marked.clear();
        self.worker.send(Command::StartBurst {
            config,
            environment: env.to_string(),
            save_to: self.burst.runs_dir.clone(),
        });
        self.burst.env = Some(env);
    }
}

/// An action the window started and is waiting for.
#[derive(Clone, Debug)]
pub struct Running {
    pub label: String,
    pub started: f64,
    pub timeout: Option<f64>,
}

impl Running {
    /// "Wake environment: running 0:42 (gives up after 10:00)".
    pub fn progress(&self, now: f64) -> String {
        let clock = |s: f64| {
            let s = s.max(0.0) as u64;
            format!("{}:{:02}", s / 60, s % 60)
        };
        match self.timeout {
            Some(t) => format!(
                "{}: running {} (gives up after {})",
                self.label,
                clock(now - self.started),
                clock(t)
            ),
            None => format!("{}: running {}", self.label, clock(now - self.started)),
        }
    }
}

/// The tag a newer image was pushed to while the environment's service was paused.
pub(super) fn newer_while_paused(env: &Environment) -> Option<String> {
    let paused = env
        .service
        .as_ref()
        .is_some_and(|s| s.status == crate::model::ServiceStatus::Paused);
    env.image
        .as_ref()
        .filter(|i| paused && i.newer_waiting)
        .and_then(|i| i.tag.clone())
}
