//! Response bodies in JSON or XML from one `serde_json::Value`.
//!
//! XML follows the reference's examples: root `<{Action}Response>` (errors: `<Error>`), one element per key,
//! and a list `{"LoadBalancers":{"LoadBalancer":[a,b]}}` becomes
//! `<LoadBalancers><LoadBalancer>a</LoadBalancer><LoadBalancer>b</LoadBalancer></LoadBalancers>`.

use serde_json::{Map, Value};

use crate::error::ApiError;

pub const HOST_ID: &str = "slb.aliyuncs.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The reference's `Format` parameter: `JSON` or `XML` (any case), XML when absent.
    pub fn from_param(value: Option<&str>) -> Option<Self> {
        match value {
            None | Some("") => Some(Format::Xml),
            Some(v) if v.eq_ignore_ascii_case("json") => Some(Format::Json),
            Some(v) if v.eq_ignore_ascii_case("xml") => Some(Format::Xml),
            Some(_) => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json;charset=utf-8",
            Format::Xml => "text/xml;charset=utf-8",
        }
    }
}

pub fn success_body(format: Format, action: &str, body: &Map<String, Value>) -> String {
    match format {
        Format::Json => serde_json::to_string(body).unwrap_or_default(),
        Format::Xml => xml_document(&format!("{action}Response"), body),
    }
}

pub fn error_body(format: Format, request_id: &str, error: &ApiError) -> String {
    let mut body = Map::new();
    body.insert("RequestId".into(), Value::String(request_id.to_string()));
    body.insert("HostId".into(), Value::String(HOST_ID.to_string()));
    body.insert("Code".into(), Value::String(error.code.to_string()));
    body.insert("Message".into(), Value::String(error.message.to_string()));
    match format {
        Format::Json => serde_json::to_string(&body).unwrap_or_default(),
        Format::Xml => xml_document("Error", &body),
    }
}

fn xml_document(root: &str, body: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.push('<');
    out.push_str(root);
    out.push('>');
    write_members(&mut out, body);
    out.push_str("</");
    out.push_str(root);
    out.push('>');
    out
}

fn write_members(out: &mut String, members: &Map<String, Value>) {
    for (key, value) in members {
        match value {
            Value::Array(items) => {
                for item in items {
                    write_element(out, key, item);
                }
            }
            other => write_element(out, key, other),
        }
    }
}

fn write_element(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape_into(out, s),
        Value::Object(members) => write_members(out, members),
        // A list directly inside a list has no element name of its own; repeat the outer one.
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_repeat_their_item_element() {
        let body = json!({"RequestId": "r", "LoadBalancers": {"LoadBalancer": [{"LoadBalancerId": "a"}, {"LoadBalancerId": "b<"}]}});
        let Value::Object(body) = body else {
            unreachable!()
        };
        assert_eq!(
            success_body(Format::Xml, "DescribeLoadBalancers", &body),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeLoadBalancersResponse><LoadBalancers>\
             <LoadBalancer><LoadBalancerId>a</LoadBalancerId></LoadBalancer>\
             <LoadBalancer><LoadBalancerId>b&lt;</LoadBalancerId></LoadBalancer></LoadBalancers>\
             <RequestId>r</RequestId></DescribeLoadBalancersResponse>"
        );
    }

    #[test]
    fn error_documents() {
        let xml = error_body(Format::Xml, "r", &crate::error::UNSUPPORTED_ACTION);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"));
        assert!(xml.contains("<Code>UnsupportedOperation</Code>"));
        let json: Value = serde_json::from_str(&error_body(
            Format::Json,
            "r",
            &crate::error::UNSUPPORTED_ACTION,
        ))
        .unwrap_or_default();
        assert_eq!(json["HostId"], "slb.aliyuncs.com");
    }
}
