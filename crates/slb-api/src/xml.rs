//! XML responses (`Format=XML`, the API's default) turned into the same JSON shape the JSON responses have,
//! so one set of response types and one set of lenient deserializers serves both formats.
//!
//! An element with child elements becomes an object; a repeated child name becomes an array; an element with
//! only text becomes a string. The root element (`<ActionResponse>`, `<Error>`, or whatever the service calls
//! it) is dropped. A document with several top-level elements and no root (the reference's DescribeZones
//! example) is read as if it had one.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Converts an XML document to a JSON value as described in the module docs.
pub fn to_json(xml: &str) -> Result<Value, String> {
    let mut reader = Reader::from_str(xml);
    // A stack of open elements: (name, child object, text).
    let mut stack: Vec<(String, Map<String, Value>, String)> =
        vec![(String::new(), Map::new(), String::new())];
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("invalid XML: {e}"))?
        {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_owned();
                stack.push((name, Map::new(), String::new()));
            }
            Event::Empty(empty) => {
                let name = empty.local_name().as_ref().to_owned();
                if let Some((_, parent, _)) = stack.last_mut() {
                    insert(parent, name, Value::String(String::new()));
                }
            }
            Event::Text(text) => {
                if let Some((_, _, buffer)) = stack.last_mut() {
                    buffer.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some((_, _, buffer)) = stack.last_mut() {
                    buffer.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let name: &str = &reference;
                let resolved = resolve_reference(name)
                    .ok_or_else(|| format!("unknown XML entity &{name};"))?;
                if let Some((_, _, buffer)) = stack.last_mut() {
                    buffer.push(resolved);
                }
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop().ok_or("unbalanced XML")?;
                let value = if children.is_empty() {
                    Value::String(text)
                } else {
                    Value::Object(children)
                };
                let (_, parent, _) = stack.last_mut().ok_or("unbalanced XML")?;
                insert(parent, name, value);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (_, document, _) = stack.pop().ok_or("unbalanced XML")?;
    if !stack.is_empty() {
        return Err("XML ended inside an element".to_owned());
    }
    // One top-level element is the root: return its content. Several mean there was no root.
    if document.len() == 1 {
        if let Some((_, root)) = document.into_iter().next() {
            return Ok(match root {
                Value::Object(_) => root,
                _ => Value::Object(Map::new()),
            });
        }
        return Ok(Value::Object(Map::new()));
    }
    Ok(Value::Object(document))
}

fn insert(parent: &mut Map<String, Value>, name: String, value: Value) {
    match parent.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            parent.insert(name, value);
        }
    }
}

fn resolve_reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                name.strip_prefix('#')?.parse().ok()?
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_lists_and_root_dropped() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeLoadBalancerAttributeResponse>
<RequestId>365F4154</RequestId>
<Bandwidth>5</Bandwidth>
<ListenerPorts><ListenerPort>80</ListenerPort><ListenerPort>443</ListenerPort></ListenerPorts>
<BackendServers><BackendServer><ServerId>vm-233</ServerId><Weight>100</Weight></BackendServer></BackendServers>
<LoadBalancerName>a &amp; b</LoadBalancerName>
<Empty/>
</DescribeLoadBalancerAttributeResponse>"#;
        assert_eq!(
            to_json(xml).unwrap(),
            json!({
                "RequestId": "365F4154",
                "Bandwidth": "5",
                "ListenerPorts": {"ListenerPort": ["80", "443"]},
                "BackendServers": {"BackendServer": {"ServerId": "vm-233", "Weight": "100"}},
                "LoadBalancerName": "a & b",
                "Empty": ""
            })
        );
    }

    #[test]
    fn document_without_root() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<RequestId>A48D</RequestId>
<Zones><Zone><SlaveZones></SlaveZones><ZoneId>cn-beijing-b</ZoneId><LocalName>北京可用区B</LocalName></Zone></Zones>"#;
        assert_eq!(
            to_json(xml).unwrap(),
            json!({"RequestId": "A48D", "Zones": {"Zone": {"SlaveZones": "", "ZoneId": "cn-beijing-b", "LocalName": "北京可用区B"}}})
        );
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(to_json("<a><b></a>").is_err());
    }
}
