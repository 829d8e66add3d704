//! Value helpers under the model-driven codecs: timestamps, XML escaping, CBOR and the
//! small XML and query-parameter trees the codecs walk.

use serde_json::{Map, Value};
use std::collections::HashMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) fn member_target<'a>(members: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    members.get(name).and_then(|m| m["shape"].as_str())
}

pub(super) fn strip_nulls(value: &Value) -> Value {
    match value {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

pub(super) fn epoch_of(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or_default(),
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339)
            .map(|t| t.unix_timestamp_nanos() as f64 / 1e9)
            .unwrap_or_default(),
        _ => 0.0,
    }
}

/// Epoch seconds as AWS's XML timestamps: `2026-11-23T10:00:00.000Z`.
pub fn iso8601(epoch: f64) -> String {
    let millis = (epoch * 1000.0).round() as i128;
    let t = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn escape_xml(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

pub(super) fn json_to_cbor(value: &Value) -> ciborium::Value {
    use ciborium::Value as C;
    match value {
        Value::Null => C::Null,
        Value::Bool(b) => C::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(|i| C::Integer(i.into()))
            .unwrap_or_else(|| C::Float(n.as_f64().unwrap_or_default())),
        Value::String(s) => C::Text(s.clone()),
        Value::Array(a) => C::Array(a.iter().map(json_to_cbor).collect()),
        Value::Object(o) => C::Map(
            o.iter()
                .map(|(k, v)| (C::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

/// A CBOR request body as a JSON-convention value (tag 1 timestamps become numbers).
pub fn cbor_to_json(value: &ciborium::Value) -> Value {
    use ciborium::Value as C;
    match value {
        C::Null => Value::Null,
        C::Bool(b) => Value::Bool(*b),
        C::Integer(i) => {
            let i: i128 = (*i).into();
            serde_json::Number::from_i128(i)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }
        C::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        C::Text(s) => Value::String(s.clone()),
        C::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        C::Tag(_, inner) => cbor_to_json(inner),
        C::Array(a) => Value::Array(a.iter().map(cbor_to_json).collect()),
        C::Map(m) => Value::Object(
            m.iter()
                .filter_map(|(k, v)| Some((k.as_text()?.to_string(), cbor_to_json(v))))
                .collect(),
        ),
        _ => Value::Null,
    }
}

pub(super) fn scalar_from_text(kind: &str, text: &str) -> Value {
    match kind {
        "integer" | "long" => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_string())),
        "double" | "float" => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_string())),
        "boolean" => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        "timestamp" => {
            let parsed = OffsetDateTime::parse(text, &Rfc3339)
                .map(|t| t.unix_timestamp_nanos() as f64 / 1e9)
                .ok()
                .or_else(|| text.parse::<f64>().ok());
            parsed
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.to_string()))
        }
        _ => Value::String(text.to_string()),
    }
}

/// A minimal XML element tree, enough to read AWS query responses back.
#[derive(Debug, Default)]
pub(super) struct XmlElement {
    pub(super) name: String,
    pub(super) text: String,
    pub(super) children: Vec<XmlElement>,
}

impl XmlElement {
    pub(super) fn parse(xml: &str) -> Result<XmlElement, String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut stack: Vec<XmlElement> = vec![XmlElement::default()];
        loop {
            match reader.read_event().map_err(|e| format!("bad XML: {e}"))? {
                Event::Start(start) => stack.push(XmlElement {
                    name: start.local_name().as_ref().to_string(),
                    ..XmlElement::default()
                }),
                Event::Empty(start) => {
                    let el = XmlElement {
                        name: start.local_name().as_ref().to_string(),
                        ..XmlElement::default()
                    };
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(el);
                    }
                }
                Event::Text(text) => {
                    let decoded = text.xml10_content();
                    if let Some(el) = stack.last_mut() {
                        el.text.push_str(&decoded);
                    }
                }
                Event::GeneralRef(r) => {
                    let name = r.as_ref().to_string();
                    let resolved =
                        quick_xml::escape::resolve_predefined_entity(&name).unwrap_or("");
                    if let Some(el) = stack.last_mut() {
                        el.text.push_str(resolved);
                    }
                }
                Event::End(_) => {
                    let el = stack.pop().ok_or("unbalanced XML")?;
                    stack.last_mut().ok_or("unbalanced XML")?.children.push(el);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let mut document = stack.pop().ok_or("empty XML")?;
        document
            .children
            .pop()
            .ok_or_else(|| "no root element".to_string())
    }
}

/// `A.B.1.C=v` parameters as a tree of dotted segments.
#[derive(Default)]
pub(super) struct QueryTree {
    pub(super) value: Option<String>,
    pub(super) children: HashMap<String, QueryTree>,
}

impl QueryTree {
    pub(super) fn build(params: &[(String, String)]) -> QueryTree {
        let mut root = QueryTree::default();
        for (key, value) in params {
            let mut node = &mut root;
            for segment in key.split('.') {
                node = node.children.entry(segment.to_string()).or_default();
            }
            node.value = Some(value.clone());
        }
        root
    }
}
