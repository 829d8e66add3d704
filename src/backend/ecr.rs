//! ECR, the image side: an environment's repository's images, newest first.

use super::BackendError;
use super::aws::{AwsBackend, RegionClients};
use super::convert;
use crate::model::{Environment, Image};

impl AwsBackend {
    pub(super) async fn images_in(
        &self,
        r: &RegionClients,
        repository: &str,
    ) -> Result<Vec<Image>, BackendError> {
        let mut images = Vec::new();
        let mut pages = r
            .ecr
            .describe_images()
            .repository_name(repository)
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("listing ECR images", e))?;
            images.extend(page.image_details().iter().map(convert::image));
        }
        images.sort_by(|a, b| {
            b.pushed_at
                .unwrap_or(0.0)
                .total_cmp(&a.pushed_at.unwrap_or(0.0))
        });
        Ok(images)
    }

    /// The environment's repository's images, newest first.
    pub async fn images(&self, env: &Environment) -> Result<(String, Vec<Image>), BackendError> {
        let r = self.region_for(&env.key)?;
        let repository = env
            .image
            .as_ref()
            .map(|i| i.repository.clone())
            .unwrap_or_else(|| "scale0".to_string());
        let images = self.images_in(r, &repository).await?;
        Ok((repository, images))
    }
}
