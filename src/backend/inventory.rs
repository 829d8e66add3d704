//! Reading every environment: the region's services, clusters and events in one wave of
//! concurrent calls, then per-service details, images and metrics, paired into
//! environments with their live state.

use super::aws::{AwsBackend, FAN_OUT, RegionClients};
use super::compute::{ComputeKind, Listed};
use super::convert;
use super::discovery::{self, Pairing, Resource};
use super::knowledge::{self, Misses};
use super::live_state::{apply_live_state, image_state};
use super::metrics;
use super::{BackendError, ImageRef, Inventory, ReadFailure};
use crate::model::{EnvMetrics, Environment, Image, ServiceState, Time};
use futures_util::stream::{self, StreamExt};
use std::collections::HashMap;
use std::sync::PoisonError;

/// Every kind's services with the kind that runs each, and the kinds that failed to list.
pub(super) type ListedServices = (
    Vec<(std::sync::Arc<dyn ComputeKind>, Listed)>,
    Vec<ReadFailure>,
);

/// A region's service listing: the last complete one, the newest attempt's error, and
/// whether one is running now.
#[derive(Default)]
pub struct Listing {
    services: Option<ListedServices>,
    error: Option<ReadFailure>,
    running: bool,
}

/// The ECR repository a service runs its image from.
fn repository_of(s: &ServiceState) -> Option<String> {
    let (uri, _) = ImageRef::parse_identifier(s.image_identifier.as_deref()?)?;
    Some(uri.rsplit('/').next().unwrap_or(&uri).to_string())
}

/// The list's order: grouped by owner, environments without one last.
pub fn sort_for_list(environments: &mut [Environment]) {
    environments.sort_by(|a, b| {
        (a.owner.is_none(), &a.owner, &a.key).cmp(&(b.owner.is_none(), &b.owner, &b.key))
    });
}

impl AwsBackend {
    /// Every environment in every region, read concurrently; a failing region or service
    /// is reported in `problems` and does not hide the rest.
    pub async fn inventory(&self) -> Result<Inventory, BackendError> {
        self.inventory_as_regions_answer(|_, _, _| {}).await
    }

    /// The same, telling `answered` each region's environments as soon as that region has
    /// answered while others are still being read (the list shows them at once).
    pub async fn inventory_as_regions_answer(
        &self,
        mut answered: impl FnMut(&str, &str, &[Environment]),
    ) -> Result<Inventory, BackendError> {
        let mut pending: futures_util::stream::FuturesUnordered<_> = self
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| async move {
                // Unqualified mappings belong to each account's first region.
                let first = self.regions[..i].iter().all(|x| x.account != r.account);
                (r, self.region_inventory(r, first).await)
            })
            .collect();
        let mut results = Vec::new();
        while let Some((r, result)) = pending.next().await {
            if let Ok(part) = &result
                && !pending.is_empty()
            {
                answered(&r.region, &r.account, &part.environments);
            }
            results.push((r, result));
        }
        let several = self.accounts() > 1 || !self.failed_accounts.is_empty();
        let mut inventory = Inventory::default();
        let mut credential_error = None;
        let mut answered_any = false;
        for (r, result) in results {
            match result {
                Ok(part) => {
                    answered_any = true;
                    inventory.environments.extend(part.environments);
                    inventory.problems.extend(part.problems);
                    inventory.failures.extend(part.failures);
                }
                // With several accounts, one account's expired login is its problem only.
                Err(e @ BackendError::Credentials { .. }) if several => {
                    let mut f = Misses::failure(&r.region, "credentials", &e);
                    f.account = r.account.clone();
                    inventory.problems.push(f.line());
                    inventory.failures.push(f);
                    credential_error.get_or_insert(e);
                }
                Err(e @ BackendError::Credentials { .. }) => credential_error = Some(e),
                Err(e) => {
                    let mut f = Misses::failure("", "AWS", &e);
                    f.account = r.account.clone();
                    inventory.problems.push(f.line());
                    inventory.failures.push(f);
                }
            }
        }
        for f in &self.failed_accounts {
            inventory.problems.push(f.line());
            inventory.failures.push(f.clone());
        }
        if let Some(e) = credential_error
            && (!several || !answered_any)
        {
            return Err(e);
        }
        sort_for_list(&mut inventory.environments);
        Ok(inventory)
    }

    /// One region. A refresh costs as few round trips as the APIs allow: everything the
    /// previous refresh found (its services' details, their images, their metrics) is read
    /// again in the same wave as the listings, so only new services wait for the listing;
    /// what the listings no longer show is dropped.
    pub(super) async fn region_inventory(
        &self,
        r: &RegionClients,
        first: bool,
    ) -> Result<Inventory, BackendError> {
        let mut misses = Misses::default();
        let mut failures: Vec<ReadFailure> = Vec::new();
        let (previous_at, previous) = self.previous_environments(&r.id());
        let now = self.clock.now();
        let window = (now - 1800.0, now);
        // The services to describe in the first wave: the last complete listing's (kept
        // fresh in the background), or on a first refresh those found before (none).
        let cached_listing = self.cached_listing(&r.id());
        let known_arns: Vec<(&'static str, String)> = match &cached_listing {
            Some(((services, _), _)) => services
                .iter()
                .map(|(kind, l)| (kind.id(), l.arn.clone()))
                .collect(),
            None => previous
                .iter()
                .filter_map(|e| e.service.as_ref().map(|s| (s.kind, s.arn.clone())))
                .collect(),
        };
        let mut known_repos: Vec<String> = previous
            .iter()
            .filter_map(|e| e.image.as_ref().map(|i| i.repository.clone()))
            .collect();
        known_repos.sort();
        known_repos.dedup();
        // Stale values are not refreshed from themselves: only what was read.
        let previous_refs: Vec<&Environment> = previous.iter().collect();
        let (services, clusters, events, prefetched, prefetched_images, prefetched_metrics) = tokio::join!(
            self.listing(r, cached_listing.clone()),
            self.list_clusters(r),
            self.recent_rds_events(r, 24.0 * 3600.0),
            self.describe_services(r, &known_arns),
            self.images_of(r, &known_repos),
            metrics::fetch(r, &previous_refs, window.0, window.1, 60),
        );
        let services = match services {
            Ok((s, failed)) => {
                misses.services = failed.first().cloned();
                failures.extend(failed);
                s
            }
            Err(e) => return Err(e),
        };
        let (clusters, writers) = match clusters {
            Ok(c) => c,
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                let f = Misses::failure(&r.region, "RDS", &e);
                misses.databases = Some(f.clone());
                failures.push(f);
                (Vec::new(), HashMap::new())
            }
        };
        let service_resources: Vec<Resource> = services
            .iter()
            .map(|(_, l)| Resource {
                name: l.name.clone(),
                tags: l.tags.clone(),
            })
            .collect();
        let cluster_resources: Vec<Resource> = clusters
            .iter()
            .map(|c| Resource {
                name: c.db_cluster_identifier().unwrap_or_default().to_string(),
                tags: c
                    .tag_list()
                    .iter()
                    .filter_map(|t| {
                        Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))
                    })
                    .collect(),
            })
            .collect();
        let pairings = discovery::pair(
            &r.account,
            &r.region,
            &service_resources,
            &cluster_resources,
            &self.mappings,
            first,
        );
        let events = events.unwrap_or_else(|e| {
            let f = Misses::failure(&r.region, "RDS events", &e);
            misses.metrics = Some(f.clone());
            failures.push(f);
            Vec::new()
        });

        // Details: what was prefetched, and the new services' now (concurrently).
        let mut prefetched = prefetched;
        type Detail =
            Result<(Pairing, Option<ServiceState>), (Pairing, &'static str, BackendError)>;
        let detailed: Vec<Detail> = stream::iter(pairings)
            .map(|p| {
                // Owned, so the future borrows nothing from the closure's argument.
                let listed = p
                    .service
                    .as_ref()
                    .and_then(|name| services.iter().find(|(_, l)| &l.name == name).cloned());
                let ready = listed.as_ref().and_then(|(_, l)| prefetched.remove(&l.arn));
                async move {
                    let Some((kind, listed)) = listed else {
                        return Ok((p, None));
                    };
                    let state = match ready {
                        Some(Ok(state)) => state,
                        // Described again when the prefetch failed or it is new.
                        _ => match kind.describe(&listed.arn).await {
                            Ok(state) => state,
                            Err(e) => return Err((p, kind.label(), e)),
                        },
                    };
                    Ok((p, Some(state)))
                }
            })
            .buffered(FAN_OUT)
            .collect()
            .await;

        let mut found = Vec::new();
        for d in detailed {
            match d {
                Ok(x) => found.push(x),
                Err((_, _, e @ BackendError::Credentials { .. })) => return Err(e),
                // Deleted since the listing: the next listing drops it.
                Err((_, _, BackendError::Aws { code, .. }))
                    if code == "ResourceNotFoundException" => {}
                // Still an environment: its service is unknown, not absent.
                Err((p, kind, e)) => {
                    let f = Misses::failure(&r.region, kind, &e);
                    misses.described.insert(p.key.name.clone(), f.clone());
                    failures.push(f);
                    found.push((p, None));
                }
            }
        }
        // Images: the prefetched repositories, and the new ones now (concurrently).
        let mut repo_images = prefetched_images;
        let wanted: Vec<String> = found
            .iter()
            .filter_map(|(_, s)| repository_of(s.as_ref()?))
            .filter(|repo| !repo_images.contains_key(repo))
            .collect();
        repo_images.extend(self.images_of(r, &wanted).await);

        let mut environments = Vec::new();
        for (p, service) in found {
            let database = p.cluster.as_ref().and_then(|id| {
                let c = clusters
                    .iter()
                    .find(|c| c.db_cluster_identifier() == Some(id.as_str()))?;
                let writer = c
                    .db_cluster_members()
                    .iter()
                    .find(|m| m.is_cluster_writer() == Some(true))
                    .and_then(|m| m.db_instance_identifier())
                    .and_then(|w| writers.get(w));
                Some(convert::database(c, writer, p.secret_arn.as_deref()))
            });
            let mut image = None;
            if let Some((uri, reference)) = service
                .as_ref()
                .and_then(|s| s.image_identifier.as_deref())
                .and_then(ImageRef::parse_identifier)
            {
                let repository = uri.rsplit('/').next().unwrap_or(&uri).to_string();
                let images = match repo_images.get(&repository) {
                    Some(Ok(images)) => images.as_slice(),
                    Some(Err(f)) => {
                        if !misses.images.contains_key(&repository) {
                            misses.images.insert(repository.clone(), f.clone());
                            failures.push(f.clone());
                        }
                        &[]
                    }
                    None => &[],
                };
                image = Some(image_state(
                    &repository,
                    &reference,
                    images,
                    service.as_ref(),
                ));
            }
            environments.push(Environment {
                key: p.key,
                owner: p.owner,
                discovery: p.discovery,
                service,
                database,
                image,
                read_only: None,
                unread: Vec::new(),
            });
        }

        // Live numbers and the paused state, from the last 30 minutes of metrics: the
        // prefetched series where the environment kept its parts, the rest now.
        let same_parts = |a: &Environment, b: &Environment| {
            a.service.as_ref().map(|s| &s.id) == b.service.as_ref().map(|s| &s.id)
                && a.database.as_ref().map(|d| &d.id) == b.database.as_ref().map(|d| &d.id)
        };
        let mut series: Vec<Option<EnvMetrics>> = match prefetched_metrics {
            Ok(all) => environments
                .iter()
                .map(|env| {
                    previous
                        .iter()
                        .zip(all.iter())
                        .find(|(p, _)| p.key == env.key && same_parts(p, env))
                        .map(|(_, m)| m.clone())
                })
                .collect(),
            Err(_) => vec![None; environments.len()],
        };
        let missing: Vec<usize> = (0..environments.len())
            .filter(|&i| series[i].is_none())
            .collect();
        let mut metrics_error = None;
        if !missing.is_empty() {
            let refs: Vec<&Environment> = missing.iter().map(|&i| &environments[i]).collect();
            match metrics::fetch(r, &refs, window.0, window.1, 60).await {
                Ok(all) => {
                    for (i, m) in missing.into_iter().zip(all) {
                        series[i] = Some(m);
                    }
                }
                Err(e @ BackendError::Credentials { .. }) => return Err(e),
                Err(e) => metrics_error = Some(e),
            }
        }
        if let Some(e) = &metrics_error {
            let f = Misses::failure(&r.region, "CloudWatch", e);
            misses.metrics = Some(f.clone());
            failures.push(f);
        }
        for (env, m) in environments.iter_mut().zip(&series) {
            apply_live_state(
                env,
                m.as_ref().unwrap_or(&EnvMetrics::default()),
                &events,
                now,
            );
        }
        if metrics_error.is_none()
            && let Err(e) = self.apply_older_capacity(r, &mut environments, now).await
        {
            let f = Misses::failure(&r.region, "CloudWatch", &e);
            misses.metrics = Some(f.clone());
            failures.push(f);
        }
        for e in self
            .apply_cluster_parameters(r, &mut environments, now)
            .await
        {
            failures.push(Misses::failure(&r.region, "RDS parameter groups", &e));
        }
        for env in &mut environments {
            env.read_only = r
                .guard
                .read_only_reason(env.account(), r.account_name.as_deref());
        }
        knowledge::reconcile(&mut environments, &previous, previous_at, &misses);
        self.remember_environments(&r.id(), &environments, now);
        for f in &mut failures {
            f.account = r.account.clone();
        }
        Ok(Inventory {
            environments,
            problems: failures.iter().map(ReadFailure::line).collect(),
            failures,
        })
    }

    /// What the last refresh of `region` found and when (nothing before the first).
    fn previous_environments(&self, region: &str) -> (Option<Time>, Vec<Environment>) {
        match self
            .previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(region)
        {
            Some((at, envs)) => (Some(*at), envs.clone()),
            None => (None, Vec::new()),
        }
    }

    fn remember_environments(&self, region: &str, environments: &[Environment], at: Time) {
        self.previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(region.to_string(), (at, environments.to_vec()));
    }

    /// The services to pair: on a first refresh the listing itself; afterwards the last
    /// complete listing, while a new one runs in the background (App Runner lists 20
    /// services a page, one page after another: 3 round trips for 50 services that a
    /// refresh no longer waits for). New services appear one refresh later; deleted ones
    /// drop out when their details can't be read.
    async fn listing(
        &self,
        r: &RegionClients,
        cached: Option<(ListedServices, Option<ReadFailure>)>,
    ) -> Result<ListedServices, BackendError> {
        match cached {
            Some((services, failed)) => {
                self.relist_in_background(&r.id());
                let (services, mut problems) = services;
                problems.extend(failed);
                Ok((services, problems))
            }
            None => {
                let listed = self.list_services(r).await?;
                self.store_listing(&r.id(), Ok(listed.clone()));
                Ok(listed)
            }
        }
    }

    /// The last complete listing of `region` and the error of the newest attempt, if any.
    fn cached_listing(&self, region: &str) -> Option<(ListedServices, Option<ReadFailure>)> {
        let listings = self.listings.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = listings.get(region)?;
        Some((entry.services.clone()?, entry.error.clone()))
    }

    fn store_listing(&self, region: &str, result: Result<ListedServices, ReadFailure>) {
        let mut listings = self.listings.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = listings.entry(region.to_string()).or_default();
        entry.running = false;
        match result {
            Ok(services) => {
                entry.services = Some(services);
                entry.error = None;
            }
            Err(e) => entry.error = Some(e),
        }
    }

    /// Starts a new listing of `region` unless one is running.
    fn relist_in_background(&self, region: &str) {
        {
            let mut listings = self.listings.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = listings.entry(region.to_string()).or_default();
            if entry.running {
                return;
            }
            entry.running = true;
        }
        let backend = self.clone();
        let region = region.to_string();
        tokio::spawn(async move {
            let result = match backend.region_by_id(&region) {
                Ok(r) => backend.list_services(r).await,
                Err(e) => Err(e),
            };
            // The failure names the region; the account is added with the region's others.
            let name = region.rsplit('/').next().unwrap_or(&region).to_string();
            let result = result.map_err(|e| Misses::failure(&name, "listing services", &e));
            backend.store_listing(&region, result);
        });
    }

    /// Every compute kind's services, each with the kind that runs it.
    async fn list_services(&self, r: &RegionClients) -> Result<ListedServices, BackendError> {
        // A plain loop: a closure returning a future that borrows its argument trips
        // rustc's Send inference across the awaits above.
        let mut reads = Vec::with_capacity(r.compute.len());
        for kind in &r.compute {
            reads.push(kind.list());
        }
        let listings = futures_util::future::join_all(reads).await;
        let mut out = Vec::new();
        let mut failed = Vec::new();
        for (kind, listed) in r.compute.iter().zip(listings) {
            match listed {
                Ok(listed) => out.extend(listed.into_iter().map(|l| (kind.clone(), l))),
                Err(e @ BackendError::Credentials { .. }) => return Err(e),
                Err(e) => failed.push(Misses::failure(&r.region, kind.label(), &e)),
            }
        }
        Ok((out, failed))
    }

    /// Several services' details at once (the previous refresh's, by kind and ARN).
    async fn describe_services(
        &self,
        r: &RegionClients,
        known: &[(&'static str, String)],
    ) -> HashMap<String, Result<ServiceState, BackendError>> {
        let known: Vec<(String, String)> = known
            .iter()
            .map(|(kind, arn)| (kind.to_string(), arn.clone()))
            .collect();
        stream::iter(known)
            .map(|(kind, arn): (String, String)| async move {
                let state = match r.compute.iter().find(|k| k.id() == kind.as_str()) {
                    Some(k) => k.describe(&arn).await,
                    None => Err(BackendError::Other(format!("no compute kind {kind:?}"))),
                };
                (arn, state)
            })
            .buffer_unordered(FAN_OUT)
            .collect()
            .await
    }

    /// Several repositories' images at once.
    async fn images_of(
        &self,
        r: &RegionClients,
        repositories: &[String],
    ) -> HashMap<String, Result<Vec<Image>, ReadFailure>> {
        stream::iter(repositories.to_vec())
            .map(|repo| async move {
                let images = self
                    .images_in(r, &repo)
                    .await
                    .map_err(|e| Misses::failure(&r.region, &format!("ECR {repo}"), &e));
                (repo, images)
            })
            .buffer_unordered(FAN_OUT)
            .collect()
            .await
    }
}
