//! AWS's own service models (botocore JSON, embedded from assets/aws-models) drive the
//! emulator's wire codecs: one `serde_json::Value` per request or response, named as the
//! model names members, is turned into JSON, CBOR or query-XML by walking its shape. The
//! same walk validates a value against a shape, which the tests use on every response.
//!
//! Values use JSON conventions: timestamps are epoch seconds (numbers), blobs are base64.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

mod values;

use values::{
    QueryTree, XmlElement, epoch_of, json_to_cbor, member_target, scalar_from_text, strip_nulls,
};
pub use values::{cbor_to_json, escape_xml, iso8601};
/// The services scale0 speaks, as the emulator routes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AwsService {
    AppRunner,
    Ecr,
    Rds,
    CloudWatch,
    RdsData,
    Logs,
    Ecs,
    Scheduler,
}

impl AwsService {
    pub const ALL: [AwsService; 8] = [
        AwsService::AppRunner,
        AwsService::Ecr,
        AwsService::Rds,
        AwsService::CloudWatch,
        AwsService::RdsData,
        AwsService::Logs,
        AwsService::Ecs,
        AwsService::Scheduler,
    ];

    /// The name used in fault rules and admin routes (the SigV4 signing name).
    pub fn name(self) -> &'static str {
        match self {
            AwsService::AppRunner => "apprunner",
            AwsService::Ecr => "ecr",
            AwsService::Rds => "rds",
            AwsService::CloudWatch => "monitoring",
            AwsService::RdsData => "rds-data",
            AwsService::Logs => "logs",
            AwsService::Ecs => "ecs",
            AwsService::Scheduler => "scheduler",
        }
    }

    pub fn from_name(name: &str) -> Option<AwsService> {
        match name {
            "apprunner" => Some(AwsService::AppRunner),
            "ecr" | "api.ecr" => Some(AwsService::Ecr),
            "rds" => Some(AwsService::Rds),
            "monitoring" | "cloudwatch" => Some(AwsService::CloudWatch),
            "rds-data" | "rdsdata" => Some(AwsService::RdsData),
            "logs" => Some(AwsService::Logs),
            "ecs" => Some(AwsService::Ecs),
            "scheduler" => Some(AwsService::Scheduler),
            _ => None,
        }
    }

    pub fn model(self) -> &'static ServiceModel {
        static MODELS: OnceLock<HashMap<AwsService, ServiceModel>> = OnceLock::new();
        let models = MODELS.get_or_init(|| {
            AwsService::ALL
                .iter()
                .map(|s| (*s, ServiceModel::parse(s.model_json())))
                .collect()
        });
        // Invariant: every variant of ALL was inserted above.
        &models[&self]
    }

    fn model_json(self) -> &'static str {
        match self {
            AwsService::AppRunner => include_str!("../../../assets/aws-models/apprunner.json"),
            AwsService::Ecr => include_str!("../../../assets/aws-models/ecr.json"),
            AwsService::Rds => include_str!("../../../assets/aws-models/rds.json"),
            AwsService::CloudWatch => include_str!("../../../assets/aws-models/monitoring.json"),
            AwsService::RdsData => include_str!("../../../assets/aws-models/rds-data.json"),
            AwsService::Logs => include_str!("../../../assets/aws-models/logs.json"),
            AwsService::Ecs => include_str!("../../../assets/aws-models/ecs.json"),
            AwsService::Scheduler => include_str!("../../../assets/aws-models/scheduler.json"),
        }
    }
}

/// One botocore service model.
pub struct ServiceModel {
    root: Value,
}

static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();

fn empty() -> &'static Map<String, Value> {
    EMPTY.get_or_init(Map::new)
}

impl ServiceModel {
    fn parse(json: &str) -> ServiceModel {
        // The models are embedded at build time from files the repo ships; a parse failure
        // is a build defect that every test would catch at once.
        let root = serde_json::from_str(json).expect("embedded AWS model is valid JSON");
        ServiceModel { root }
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.root["metadata"][key].as_str()
    }

    pub fn operation(&self, name: &str) -> Option<&Value> {
        self.root["operations"].get(name)
    }

    /// Every operation, by name.
    pub fn operations(&self) -> Option<&Map<String, Value>> {
        self.root["operations"].as_object()
    }

    pub fn has_operation(&self, name: &str) -> bool {
        self.operation(name).is_some()
    }

    pub fn input_shape(&self, op: &str) -> Option<&str> {
        self.operation(op)?["input"]["shape"].as_str()
    }

    pub fn output_shape(&self, op: &str) -> Option<&str> {
        self.operation(op)?["output"]["shape"].as_str()
    }

    pub fn shape(&self, name: &str) -> &Map<String, Value> {
        self.root["shapes"][name]
            .as_object()
            .unwrap_or_else(|| empty())
    }

    fn shape_type(&self, name: &str) -> &str {
        self.shape(name)
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string")
    }

    fn members<'a>(&'a self, shape: &'a Map<String, Value>) -> &'a Map<String, Value> {
        shape
            .get("members")
            .and_then(Value::as_object)
            .unwrap_or_else(|| empty())
    }

    /// The error shape with this code (an `error.code` override, or the shape name).
    pub fn error_shape(&self, code: &str) -> Option<(&str, &Map<String, Value>)> {
        let shapes = self.root["shapes"].as_object()?;
        shapes.iter().find_map(|(name, shape)| {
            let shape = shape.as_object()?;
            if shape.get("exception").and_then(Value::as_bool) != Some(true) {
                return None;
            }
            let shape_code = shape
                .get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
                .unwrap_or(name);
            (shape_code == code || name == code).then_some((name.as_str(), shape))
        })
    }

    /// HTTP status AWS's model gives an error code, if the model knows it.
    pub fn error_status(&self, code: &str) -> Option<u16> {
        let (_, shape) = self.error_shape(code)?;
        shape
            .get("error")?
            .get("httpStatusCode")?
            .as_u64()
            .map(|s| s as u16)
    }

    /// The member name an error shape uses for its message ("message" or "Message").
    pub fn error_message_member(&self, code: &str) -> &str {
        match self.error_shape(code) {
            Some((_, shape)) if self.members(shape).contains_key("Message") => "Message",
            _ => "message",
        }
    }

    // ---- JSON (awsJson1_0, awsJson1_1, restJson1) -------------------------------------

    /// Drops nulls, so handlers can write optional members as `null`.
    pub fn to_json(&self, value: &Value) -> Value {
        strip_nulls(value)
    }

    // ---- CBOR (Smithy RPC v2) ----------------------------------------------------------

    pub fn to_cbor(&self, shape_name: &str, value: &Value) -> ciborium::Value {
        use ciborium::Value as C;
        let shape = self.shape(shape_name);
        match (self.shape_type(shape_name), value) {
            (_, Value::Null) => C::Null,
            ("structure", Value::Object(obj)) => {
                let members = self.members(shape);
                let mut out = Vec::new();
                for (name, v) in obj {
                    if v.is_null() {
                        continue;
                    }
                    let target = member_target(members, name).unwrap_or("String");
                    out.push((C::Text(name.clone()), self.to_cbor(target, v)));
                }
                C::Map(out)
            }
            ("list", Value::Array(items)) => {
                let target = shape["member"]["shape"].as_str().unwrap_or("String");
                C::Array(items.iter().map(|v| self.to_cbor(target, v)).collect())
            }
            ("map", Value::Object(obj)) => {
                let target = shape["value"]["shape"].as_str().unwrap_or("String");
                C::Map(
                    obj.iter()
                        .map(|(k, v)| (C::Text(k.clone()), self.to_cbor(target, v)))
                        .collect(),
                )
            }
            ("timestamp", v) => C::Tag(1, Box::new(C::Float(epoch_of(v)))),
            ("integer" | "long", Value::Number(n)) => n
                .as_i64()
                .map(|i| C::Integer(i.into()))
                .unwrap_or_else(|| C::Float(n.as_f64().unwrap_or(0.0))),
            ("double" | "float", Value::Number(n)) => C::Float(n.as_f64().unwrap_or(0.0)),
            ("blob", Value::String(s)) => C::Bytes(s.as_bytes().to_vec()),
            (_, v) => json_to_cbor(v),
        }
    }

    // ---- Query protocol input ----------------------------------------------------------

    /// Decodes `Action=...&A.B.member.1=...` form parameters into a value of `shape_name`.
    pub fn from_query(&self, shape_name: &str, params: &[(String, String)]) -> Value {
        let tree = QueryTree::build(params);
        self.query_value(shape_name, &tree)
    }

    fn query_value(&self, shape_name: &str, node: &QueryTree) -> Value {
        let shape = self.shape(shape_name);
        match self.shape_type(shape_name) {
            "structure" => {
                let mut out = Map::new();
                for (name, member) in self.members(shape) {
                    let key = member
                        .get("locationName")
                        .and_then(Value::as_str)
                        .unwrap_or(name);
                    if let Some(child) = node.children.get(key) {
                        let target = member["shape"].as_str().unwrap_or("String");
                        out.insert(name.clone(), self.query_value(target, child));
                    }
                }
                Value::Object(out)
            }
            "list" => {
                let target = shape["member"]["shape"].as_str().unwrap_or("String");
                let flattened = shape.get("flattened").and_then(Value::as_bool) == Some(true);
                let container = if flattened {
                    Some(node)
                } else {
                    let name = shape["member"]
                        .get("locationName")
                        .and_then(Value::as_str)
                        .unwrap_or("member");
                    node.children.get(name)
                };
                let mut items: Vec<(usize, Value)> = container
                    .map(|c| {
                        c.children
                            .iter()
                            .filter_map(|(k, v)| {
                                Some((k.parse().ok()?, self.query_value(target, v)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            }
            "map" => {
                let target = shape["value"]["shape"].as_str().unwrap_or("String");
                let mut out = Map::new();
                if let Some(entries) = node.children.get("entry") {
                    for entry in entries.children.values() {
                        if let (Some(k), Some(v)) =
                            (entry.children.get("key"), entry.children.get("value"))
                        {
                            let key = k.value.clone().unwrap_or_default();
                            out.insert(key, self.query_value(target, v));
                        }
                    }
                }
                Value::Object(out)
            }
            kind => scalar_from_text(kind, node.value.as_deref().unwrap_or("")),
        }
    }

    // ---- Query protocol output (XML) -----------------------------------------------------

    /// The whole `<OpResponse>` document for a successful call.
    pub fn to_query_xml(&self, op: &str, value: &Value, request_id: &str) -> String {
        let namespace = self.metadata("xmlNamespace").unwrap_or_default();
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"{namespace}\">"
        );
        let wrapper = self
            .operation(op)
            .and_then(|o| o["output"]["resultWrapper"].as_str());
        if let (Some(wrapper), Some(shape)) = (wrapper, self.output_shape(op)) {
            xml.push_str(&format!("<{wrapper}>"));
            self.write_members(shape, value, &mut xml);
            xml.push_str(&format!("</{wrapper}>"));
        }
        xml.push_str(&format!(
            "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
        ));
        xml
    }

    fn write_members(&self, shape_name: &str, value: &Value, xml: &mut String) {
        let Value::Object(obj) = value else { return };
        let members = self.members(self.shape(shape_name));
        for (name, member) in members {
            let Some(v) = obj.get(name) else { continue };
            if v.is_null() {
                continue;
            }
            let element = member
                .get("locationName")
                .and_then(Value::as_str)
                .unwrap_or(name);
            let target = member["shape"].as_str().unwrap_or("String");
            self.write_element(element, target, v, xml);
        }
    }

    fn write_element(&self, element: &str, shape_name: &str, value: &Value, xml: &mut String) {
        let shape = self.shape(shape_name);
        match self.shape_type(shape_name) {
            "structure" => {
                xml.push_str(&format!("<{element}>"));
                self.write_members(shape_name, value, xml);
                xml.push_str(&format!("</{element}>"));
            }
            "list" => {
                let target = shape["member"]["shape"].as_str().unwrap_or("String");
                let item = shape["member"]
                    .get("locationName")
                    .and_then(Value::as_str)
                    .unwrap_or("member");
                let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if shape.get("flattened").and_then(Value::as_bool) == Some(true) {
                    for v in items {
                        self.write_element(element, target, v, xml);
                    }
                } else {
                    xml.push_str(&format!("<{element}>"));
                    for v in items {
                        self.write_element(item, target, v, xml);
                    }
                    xml.push_str(&format!("</{element}>"));
                }
            }
            "map" => {
                let target = shape["value"]["shape"].as_str().unwrap_or("String");
                xml.push_str(&format!("<{element}>"));
                if let Value::Object(obj) = value {
                    for (k, v) in obj {
                        xml.push_str(&format!("<entry><key>{}</key>", escape_xml(k)));
                        self.write_element("value", target, v, xml);
                        xml.push_str("</entry>");
                    }
                }
                xml.push_str(&format!("</{element}>"));
            }
            "timestamp" => {
                xml.push_str(&format!(
                    "<{element}>{}</{element}>",
                    iso8601(epoch_of(value))
                ));
            }
            _ => {
                let text = match value {
                    Value::String(s) => escape_xml(s),
                    other => other.to_string(),
                };
                xml.push_str(&format!("<{element}>{text}</{element}>"));
            }
        }
    }

    // ---- Query protocol output, read back (for tests and tools) -------------------------

    /// Parses a query-protocol XML response back into a value of the operation's output
    /// shape. Elements the shape does not know are kept under their own names, so that
    /// `validate` reports them.
    pub fn from_query_xml(&self, op: &str, xml: &str) -> Result<Value, String> {
        let root = XmlElement::parse(xml)?;
        let wrapper = self
            .operation(op)
            .and_then(|o| o["output"]["resultWrapper"].as_str())
            .ok_or_else(|| format!("{op} has no result wrapper"))?;
        let shape = self
            .output_shape(op)
            .ok_or_else(|| format!("{op} has no output"))?;
        let result = root
            .children
            .iter()
            .find(|c| c.name == wrapper)
            .ok_or_else(|| format!("no <{wrapper}> in the response"))?;
        Ok(self.xml_value(shape, result))
    }

    fn xml_value(&self, shape_name: &str, el: &XmlElement) -> Value {
        let shape = self.shape(shape_name);
        match self.shape_type(shape_name) {
            "structure" => {
                let members = self.members(shape);
                let mut out = Map::new();
                for child in &el.children {
                    let member = members.iter().find(|(name, m)| {
                        m.get("locationName")
                            .and_then(Value::as_str)
                            .unwrap_or(name)
                            == child.name
                    });
                    match member {
                        Some((name, m)) => {
                            let target = m["shape"].as_str().unwrap_or("String");
                            out.insert(name.clone(), self.xml_value(target, child));
                        }
                        None => {
                            out.insert(child.name.clone(), Value::String(child.text.clone()));
                        }
                    }
                }
                Value::Object(out)
            }
            "list" => {
                let target = shape["member"]["shape"].as_str().unwrap_or("String");
                Value::Array(
                    el.children
                        .iter()
                        .map(|c| self.xml_value(target, c))
                        .collect(),
                )
            }
            "map" => {
                let target = shape["value"]["shape"].as_str().unwrap_or("String");
                let mut out = Map::new();
                for entry in &el.children {
                    let key = entry.children.iter().find(|c| c.name == "key");
                    let value = entry.children.iter().find(|c| c.name == "value");
                    if let (Some(k), Some(v)) = (key, value) {
                        out.insert(k.text.clone(), self.xml_value(target, v));
                    }
                }
                Value::Object(out)
            }
            kind => scalar_from_text(kind, &el.text),
        }
    }

    // ---- Validation ------------------------------------------------------------------------

    /// Checks a value against a shape: member names, types, required members, enums and
    /// numeric ranges. Returns one line per problem, with its path.
    pub fn validate(&self, shape_name: &str, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        self.validate_at(shape_name, value, shape_name, &mut problems);
        problems
    }

    fn validate_at(&self, shape_name: &str, value: &Value, path: &str, out: &mut Vec<String>) {
        let shape = self.shape(shape_name);
        let kind = self.shape_type(shape_name);
        match (kind, value) {
            ("structure", Value::Object(obj)) => {
                let members = self.members(shape);
                for required in shape
                    .get("required")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    let name = required.as_str().unwrap_or_default();
                    if obj.get(name).is_none_or(Value::is_null) {
                        out.push(format!("{path}.{name}: required member missing"));
                    }
                }
                for (name, v) in obj {
                    match member_target(members, name) {
                        Some(target) if !v.is_null() => {
                            self.validate_at(target, v, &format!("{path}.{name}"), out)
                        }
                        Some(_) => {}
                        None => out.push(format!("{path}.{name}: not a member of {shape_name}")),
                    }
                }
            }
            ("list", Value::Array(items)) => {
                let target = shape["member"]["shape"].as_str().unwrap_or("String");
                for (i, v) in items.iter().enumerate() {
                    self.validate_at(target, v, &format!("{path}[{i}]"), out);
                }
            }
            ("map", Value::Object(obj)) => {
                let target = shape["value"]["shape"].as_str().unwrap_or("String");
                for (k, v) in obj {
                    self.validate_at(target, v, &format!("{path}.{k}"), out);
                }
            }
            ("string", Value::String(s)) => {
                if let Some(allowed) = shape.get("enum").and_then(Value::as_array)
                    && !allowed.iter().any(|a| a.as_str() == Some(s))
                {
                    out.push(format!("{path}: {s:?} is not one of {shape_name}'s values"));
                }
                let len = s.chars().count() as u64;
                if let Some(min) = shape.get("min").and_then(Value::as_u64)
                    && len < min
                {
                    out.push(format!("{path}: shorter than {min}"));
                }
                if let Some(max) = shape.get("max").and_then(Value::as_u64)
                    && len > max
                {
                    out.push(format!("{path}: longer than {max}"));
                }
            }
            ("integer" | "long", Value::Number(n)) if n.is_i64() || n.is_u64() => {
                let i = n.as_f64().unwrap_or_default();
                if let Some(min) = shape.get("min").and_then(Value::as_f64)
                    && i < min
                {
                    out.push(format!("{path}: {i} below {min}"));
                }
                if let Some(max) = shape.get("max").and_then(Value::as_f64)
                    && i > max
                {
                    out.push(format!("{path}: {i} above {max}"));
                }
            }
            ("double" | "float" | "timestamp", Value::Number(_)) => {}
            ("boolean", Value::Bool(_)) => {}
            ("blob", Value::String(_)) => {}
            (kind, v) => out.push(format!("{path}: expected {kind}, got {v}")),
        }
    }
}

#[cfg(test)]
mod tests;
