//! ECR (awsJson1_1, target prefix AmazonEC2ContainerRegistry_V20150921).

use super::{ApiError, ApiResult, paginate, required_str};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::{Image, Repository, World};
use serde_json::{Value, json};

const SVC: AwsService = AwsService::Ecr;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    let (world, _) = shared.world();
    Some(match op {
        "DescribeRepositories" => describe_repositories(&world, input),
        "DescribeImages" => describe_images(&world, input),
        "ListImages" => list_images(&world, input),
        _ => return None,
    })
}

fn repository<'a>(w: &'a World, input: &Value) -> Result<&'a Repository, ApiError> {
    let name = required_str(SVC, input, "repositoryName")?;
    if let Some(registry) = input.get("registryId").and_then(Value::as_str)
        && registry != w.account
    {
        return Err(not_found(name, registry));
    }
    w.repositories
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| not_found(name, &w.account))
}

fn not_found(name: &str, registry: &str) -> ApiError {
    ApiError::new(
        "RepositoryNotFoundException",
        format!(
            "The repository with name '{name}' does not exist in the registry with id '{registry}'"
        ),
    )
}

fn page_size(input: &Value, default: usize) -> Result<usize, ApiError> {
    match input.get("maxResults").and_then(Value::as_i64) {
        None => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid_input(
            SVC,
            format!(
                "Invalid parameter at 'maxResults' failed to satisfy constraint: value {n} must be between 1 and 1000"
            ),
        )),
    }
}

fn repository_json(w: &World, r: &Repository) -> Value {
    json!({
        "repositoryArn": format!("arn:aws:ecr:{}:{account}:repository/{}", w.region, r.name, account = w.account),
        "registryId": w.account,
        "repositoryName": r.name,
        "repositoryUri": w.ecr_uri(&r.name),
        "createdAt": r.created_at,
        "imageTagMutability": "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": false},
        "encryptionConfiguration": {"encryptionType": "AES256"},
    })
}

fn describe_repositories(w: &World, input: &Value) -> ApiResult {
    let names: Option<Vec<&str>> = input
        .get("repositoryNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let mut selected = Vec::new();
    match &names {
        Some(names) => {
            for name in names {
                let r = w
                    .repositories
                    .iter()
                    .find(|r| r.name == *name)
                    .ok_or_else(|| not_found(name, &w.account))?;
                selected.push(repository_json(w, r));
            }
        }
        None => selected.extend(w.repositories.iter().map(|r| repository_json(w, r))),
    }
    let (page, next) = paginate(
        SVC,
        &selected,
        input.get("nextToken").and_then(Value::as_str),
        page_size(input, 100)?,
    )?;
    Ok(json!({"repositories": page, "nextToken": next}))
}

/// ECR's tagStatus filter: TAGGED, UNTAGGED or ANY (the default).
fn tag_filter(input: &Value) -> Result<impl Fn(&Image) -> bool, ApiError> {
    let status = input
        .pointer("/filter/tagStatus")
        .and_then(Value::as_str)
        .unwrap_or("ANY")
        .to_string();
    if !["TAGGED", "UNTAGGED", "ANY"].contains(&status.as_str()) {
        return Err(ApiError::invalid_input(
            SVC,
            format!("Invalid tagStatus {status}"),
        ));
    }
    Ok(move |i: &Image| match status.as_str() {
        "TAGGED" => !i.tags.is_empty(),
        "UNTAGGED" => i.tags.is_empty(),
        _ => true,
    })
}

fn image_json(w: &World, r: &Repository, i: &Image) -> Value {
    json!({
        "registryId": w.account,
        "repositoryName": r.name,
        "imageDigest": i.digest,
        "imageTags": if i.tags.is_empty() { Value::Null } else { json!(i.tags) },
        "imageSizeInBytes": i.size_bytes,
        "imagePushedAt": i.pushed_at,
        "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "artifactMediaType": "application/vnd.docker.container.image.v1+json",
        "imageStatus": "ACTIVE",
        "lastRecordedPullTime": w
            .services
            .iter()
            .any(|s| s.deployed_digest.as_deref() == Some(&i.digest))
            .then_some(i.pushed_at + 300.0),
    })
}

fn describe_images(w: &World, input: &Value) -> ApiResult {
    let r = repository(w, input)?;
    if let Some(ids) = input.get("imageIds").and_then(Value::as_array) {
        if input.get("nextToken").is_some() || input.get("maxResults").is_some() {
            return Err(ApiError::invalid_input(
                SVC,
                "imageIds can't be combined with maxResults or nextToken",
            ));
        }
        let mut out = Vec::new();
        for id in ids {
            let digest = id.get("imageDigest").and_then(Value::as_str);
            let tag = id.get("imageTag").and_then(Value::as_str);
            let found = r.images.iter().find(|i| {
                digest.is_none_or(|d| d == i.digest)
                    && tag.is_none_or(|t| i.tags.iter().any(|x| x == t))
            });
            match found {
                Some(i) if digest.is_some() || tag.is_some() => out.push(image_json(w, r, i)),
                _ => {
                    let what = tag
                        .map(|t| format!("imageTag={t}"))
                        .or(digest.map(|d| format!("imageDigest={d}")))
                        .unwrap_or_default();
                    return Err(ApiError::new(
                        "ImageNotFoundException",
                        format!(
                            "The image with imageId {{{what}}} does not exist within the repository with name '{}' in the registry with id '{account}'",
                            r.name,
                            account = w.account
                        ),
                    ));
                }
            }
        }
        return Ok(json!({"imageDetails": out}));
    }
    let keep = tag_filter(input)?;
    let all: Vec<Value> = r
        .images
        .iter()
        .filter(|i| keep(i))
        .map(|i| image_json(w, r, i))
        .collect();
    let (page, next) = paginate(
        SVC,
        &all,
        input.get("nextToken").and_then(Value::as_str),
        page_size(input, 100)?,
    )?;
    Ok(json!({"imageDetails": page, "nextToken": next}))
}

fn list_images(w: &World, input: &Value) -> ApiResult {
    let r = repository(w, input)?;
    let keep = tag_filter(input)?;
    let mut all = Vec::new();
    for image in r.images.iter().filter(|i| keep(i)) {
        if image.tags.is_empty() {
            all.push(json!({"imageDigest": image.digest}));
        }
        for tag in &image.tags {
            all.push(json!({"imageDigest": image.digest, "imageTag": tag}));
        }
    }
    let (page, next) = paginate(
        SVC,
        &all,
        input.get("nextToken").and_then(Value::as_str),
        page_size(input, 100)?,
    )?;
    Ok(json!({"imageIds": page, "nextToken": next}))
}
