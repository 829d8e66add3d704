//! The accounts side of the window: the user's AWS profiles (read off the UI thread with
//! the SDK's own loader), which of them are active, switching between them, and the IAM
//! Identity Center login run from the window. The login runs on its own thread and
//! runtime, not the worker's: when the connection failed for want of a login there may be
//! no connected worker to ask. Only the user code and the URL reach the screen; tokens
//! stay in the SSO cache file.

use super::App;
use super::intent::Intent;
use crate::backend::profiles::{self, AwsFiles, CredentialSource, ProfileInfo, TokenState};
use crate::backend::sso_login;
use std::sync::mpsc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the window waits for a login to be approved (the code's expiry caps it).
const LOGIN_TIMEOUT: Duration = Duration::from_secs(600);

/// A profile's login as the picker says it.
#[derive(Clone, Debug, PartialEq)]
pub enum LoginWord {
    /// Not an SSO profile: how it gets credentials ("keys", "assume-role").
    NotSso(&'static str),
    LoggedIn {
        until: String,
    },
    Expired {
        at: String,
    },
    Missing,
    Unusable(String),
    /// Active, but the AWS config has no such profile.
    NotConfigured,
}

impl LoginWord {
    pub fn text(&self) -> String {
        match self {
            LoginWord::NotSso(source) => (*source).to_string(),
            LoginWord::LoggedIn { until } => format!("logged in until {until}"),
            LoginWord::Expired { at } => format!("login expired {at}"),
            LoginWord::Missing => "not logged in".into(),
            LoginWord::Unusable(why) => format!("cached login unusable: {why}"),
            LoginWord::NotConfigured => "not in your AWS config".into(),
        }
    }

    /// An SSO profile whose login must be renewed before it can connect (never a
    /// profile that does not use SSO).
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            LoginWord::Expired { .. } | LoginWord::Missing | LoginWord::Unusable(_)
        )
    }
}

/// One profile of the picker.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileRow {
    pub name: String,
    /// The account id, or "-" where the config does not say.
    pub account: String,
    pub region: String,
    pub sso_session: Option<String>,
    pub login: LoginWord,
    /// In the app's chosen set (the settings), not yet necessarily connected.
    pub active: bool,
}

/// Where a login from the window is.
#[derive(Clone, Debug, PartialEq)]
pub enum LoginState {
    Starting,
    /// Waiting for the person to approve `code` at `url`.
    Waiting {
        url: String,
        code: String,
    },
    Done {
        until: String,
    },
    Failed(String),
    /// The person cancelled it; nothing was cached.
    Cancelled,
}

/// The login shown in the banner and the picker.
#[derive(Clone, Debug, PartialEq)]
pub struct LoginView {
    pub profile: String,
    pub state: LoginState,
}

/// The picker's view model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfilesView {
    pub rows: Vec<ProfileRow>,
    /// The config did not load (the loader's message says where).
    pub error: Option<String>,
    pub loading: bool,
    pub login: Option<LoginView>,
}

/// The banner's view model: active profiles that need a login, and one under way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoginOffer {
    pub profiles: Vec<String>,
    pub login: Option<LoginView>,
}

type Loaded = Result<Vec<ProfileInfo>, String>;

/// A login from the window: what it shows, what its thread says, and how to stop it.
struct Login {
    view: LoginView,
    states: mpsc::Receiver<LoginState>,
    cancel: CancellationToken,
}

/// The app's accounts state.
#[derive(Default)]
pub struct Accounts {
    /// Where the AWS config and SSO cache are (the worker's target's).
    pub files: AwsFiles,
    profiles: Option<Loaded>,
    loading: Option<mpsc::Receiver<Loaded>>,
    login: Option<Login>,
    started: bool,
    settings_was_open: bool,
    had_error: bool,
}

impl Accounts {
    /// Reads the profiles again, on a thread of its own.
    pub fn reload(&mut self, ctx: &egui::Context) {
        let (tx, rx) = mpsc::channel();
        let files = self.files.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("scale0-profiles".into())
            .spawn(move || {
                let loaded = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
                    .and_then(|rt| {
                        rt.block_on(profiles::list(&files))
                            .map_err(|e| e.to_string())
                    });
                let _ = tx.send(loaded);
                ctx.request_repaint();
            });
        if spawned.is_ok() {
            self.loading = Some(rx);
        }
    }

    /// The profiles' names, for the palette.
    pub fn names(&self) -> Vec<String> {
        match &self.profiles {
            Some(Ok(list)) => list.iter().map(|p| p.name.clone()).collect(),
            _ => Vec::new(),
        }
    }

    fn login_view(&self) -> Option<LoginView> {
        self.login.as_ref().map(|l| l.view.clone())
    }

    /// The picker's rows: every profile, plus active ones the config does not have.
    pub fn view(&self, active: &[String]) -> ProfilesView {
        let mut view = ProfilesView {
            loading: self.loading.is_some(),
            login: self.login_view(),
            ..Default::default()
        };
        match &self.profiles {
            Some(Ok(list)) => view.rows = list.iter().map(|p| row(p, active)).collect(),
            Some(Err(e)) => view.error = Some(e.clone()),
            None => {}
        }
        for name in active {
            if !view.rows.iter().any(|r| &r.name == name) {
                view.rows.push(ProfileRow {
                    name: name.clone(),
                    account: "-".into(),
                    region: "-".into(),
                    sso_session: None,
                    login: LoginWord::NotConfigured,
                    active: true,
                });
            }
        }
        view
    }

    /// Stops the login under way at once: its thread drops the device flow mid-wait, so
    /// nothing is cached after the click.
    pub fn cancel_login(&mut self) {
        if let Some(login) = &mut self.login
            && matches!(
                login.view.state,
                LoginState::Starting | LoginState::Waiting { .. }
            )
        {
            login.cancel.cancel();
            login.view.state = LoginState::Cancelled;
        }
    }

    /// Starts the device flow for `profile` on its own thread; a login under way is
    /// cancelled first.
    pub fn start_login(
        &mut self,
        ctx: &egui::Context,
        profile: String,
        endpoint_url: Option<String>,
    ) {
        self.cancel_login();
        let (tx, rx) = mpsc::channel();
        let files = self.files.clone();
        let name = profile.clone();
        let repaint = ctx.clone();
        let cancel = CancellationToken::new();
        let cancelled = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name("scale0-login".into())
            .spawn(move || {
                let send = |state: LoginState| {
                    let _ = tx.send(state);
                    repaint.request_repaint();
                };
                let outcome = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    // None: cancelled.
                    Ok(rt) => rt.block_on(async {
                        tokio::select! {
                            outcome = device_flow(&files, &name, endpoint_url, &send) => Some(outcome),
                            _ = cancelled.cancelled() => None,
                        }
                    }),
                    Err(e) => Some(Err(format!("could not start the login: {e}"))),
                };
                send(match outcome {
                    Some(Ok(until)) => LoginState::Done { until },
                    Some(Err(why)) => LoginState::Failed(why),
                    None => LoginState::Cancelled,
                });
            });
        let state = match spawned {
            Ok(_) => LoginState::Starting,
            Err(e) => LoginState::Failed(format!("could not start the login: {e}")),
        };
        self.login = Some(Login {
            view: LoginView { profile, state },
            states: rx,
            cancel,
        });
    }
}

/// RegisterClient, StartDeviceAuthorization, CreateToken until approved; the token goes
/// to the shared SSO cache. Returns when the new login expires.
async fn device_flow(
    files: &AwsFiles,
    profile: &str,
    endpoint_url: Option<String>,
    send: &impl Fn(LoginState),
) -> Result<String, String> {
    let set = profiles::load(files).await.map_err(|e| e.to_string())?;
    let target = profiles::sso_login(&set, profile, files).map_err(|e| e.to_string())?;
    let (oidc, endpoint) =
        sso_login::client(&target, profile, endpoint_url.as_deref(), files).await;
    sso_login::login(&oidc, &endpoint, &target, LOGIN_TIMEOUT, |code| {
        send(LoginState::Waiting {
            url: code.verification_uri_complete.clone(),
            code: code.user_code.clone(),
        })
    })
    .await
    .map(|done| done.expires_at)
    .map_err(|e| e.to_string())
}

fn row(p: &ProfileInfo, active: &[String]) -> ProfileRow {
    let login = match (&p.token, &p.source) {
        (Some(TokenState::Valid { expires_at }), _) => LoginWord::LoggedIn {
            until: expires_at.clone(),
        },
        (Some(TokenState::Expired { expired_at }), _) => LoginWord::Expired {
            at: expired_at.clone(),
        },
        (Some(TokenState::Missing), _) => LoginWord::Missing,
        (Some(TokenState::Unreadable { error }), _) => LoginWord::Unusable(error.clone()),
        (None, source) => LoginWord::NotSso(match source {
            CredentialSource::Sso => "sso",
            CredentialSource::StaticKeys => "access keys",
            CredentialSource::AssumeRole => "assume-role",
            CredentialSource::Process => "credential process",
            CredentialSource::Environment => "environment",
            CredentialSource::Other => "-",
        }),
    };
    ProfileRow {
        name: p.name.clone(),
        account: p.account.clone().unwrap_or_else(|| "-".into()),
        region: p.region.clone().unwrap_or_else(|| "-".into()),
        sso_session: p.sso.as_ref().and_then(|s| s.session.clone()),
        login,
        active: active.contains(&p.name),
    }
}

impl App {
    /// Sets where the AWS config and SSO cache are (tests: a temporary HOME).
    pub fn set_aws_files(&mut self, files: AwsFiles) {
        self.accounts.files = files;
        self.accounts.started = false;
    }

    /// The login under way, or the last one's failure (tests read its code).
    pub fn login_state(&self) -> Option<&LoginState> {
        self.accounts.login.as_ref().map(|l| &l.view.state)
    }

    /// The profiles the window connects with (empty: the default chain).
    fn active_profiles(&self) -> Vec<String> {
        self.settings.profiles()
    }

    /// Takes what the profile and login threads said; reads the profiles at start, when
    /// the settings open and when the connection fails; reconnects after a login.
    pub(super) fn poll_accounts(&mut self, ctx: &egui::Context) {
        if !self.accounts.started {
            self.accounts.started = true;
            if let Some(t) = self.worker.target() {
                if self.accounts.files.is_process() {
                    self.accounts.files = t.aws_files.clone();
                }
                // Started with --profile: the picker shows what is connected.
                if !t.profiles.is_empty() {
                    self.settings.profile = t.profiles.join(", ");
                }
            }
            self.accounts.reload(ctx);
        }
        let failing = self.connect_error.is_some();
        if (self.settings_open && !self.accounts.settings_was_open)
            || (failing && !self.accounts.had_error)
        {
            self.accounts.reload(ctx);
        }
        self.accounts.settings_was_open = self.settings_open;
        self.accounts.had_error = failing;
        if let Some(rx) = &self.accounts.loading
            && let Ok(loaded) = rx.try_recv()
        {
            self.accounts.profiles = Some(loaded);
            self.accounts.loading = None;
            self.revision += 1;
        }
        let mut done = None;
        if let Some(Login {
            view, states: rx, ..
        }) = &mut self.accounts.login
        {
            while let Ok(state) = rx.try_recv() {
                if view.state == LoginState::Cancelled && !matches!(state, LoginState::Done { .. })
                {
                    // Said on the click. Only a login that finished just before it (its
                    // token already cached) still counts, so the window tells the truth.
                    continue;
                }
                if let LoginState::Waiting { url, .. } = &state {
                    // A browser that does not open leaves the URL on screen.
                    ctx.open_url(egui::OpenUrl::new_tab(url.clone()));
                }
                if let LoginState::Done { until } = &state {
                    done = Some((view.profile.clone(), until.clone()));
                }
                view.state = state;
                self.revision += 1;
            }
        }
        if let Some((profile, until)) = done {
            self.accounts.login = None;
            // The picker says "logged in" from the cache file just written.
            self.accounts.reload(ctx);
            self.notify(
                format!("logged in: profile {profile}, until {until}; reconnecting"),
                true,
            );
            self.reconnect(ctx, false);
        }
    }

    /// The banner's login offer: active SSO profiles without a usable login, once the
    /// connection or a refresh failed on credentials.
    pub(super) fn login_offer(&self) -> LoginOffer {
        let credentials_failed = self.connect_error.is_some()
            || self
                .problems
                .problems()
                .iter()
                .any(|p| p.what.contains("credentials"));
        let view = self.accounts.view(&self.active_profiles());
        let profiles = if credentials_failed {
            view.rows
                .iter()
                .filter(|r| r.active && r.login.needs_login())
                .map(|r| r.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        LoginOffer {
            profiles,
            login: self.accounts.login_view(),
        }
    }

    /// The picker's view model for the settings window.
    pub(super) fn profiles_view(&self) -> ProfilesView {
        self.accounts.view(&self.active_profiles())
    }

    pub(super) fn apply_accounts(&mut self, ctx: &egui::Context, intent: Intent) {
        match intent {
            Intent::Login(profile) => {
                let endpoint = self.worker.target().and_then(|t| t.endpoint_url.clone());
                self.accounts.start_login(ctx, profile, endpoint);
            }
            Intent::CancelLogin => {
                self.accounts.cancel_login();
                self.revision += 1;
            }
            Intent::SwitchProfile(profile) => {
                self.palette = None;
                self.settings_open = false;
                self.notify(format!("switching to profile {profile}"), true);
                self.settings.profile = profile;
                self.reconnect(ctx, false);
            }
            _ => {}
        }
    }
}
