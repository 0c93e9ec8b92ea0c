//! Open311 GeoReport v2 conformance, written from the published specification
//! (http://wiki.open311.org/GeoReport_v2): discovery, services, service definitions, requests
//! (list with its filters and paging, one, create form-urlencoded and multipart with `media`),
//! tokens; each in JSON and XML; errors as the spec's list with 400 / 403 / 404.

use crate::both;
use crate::citizen::point_in_grid_area;
use crate::fixtures::jpeg_bytes;
use crate::helpers::*;
use quick_xml::events::Event;
use reqwest::StatusCode;
use serde_json::Value;

fn urlencode(s: &str) -> String {
    chuangcheng::domain::urlencode(s)
}

/// Parses an XML document to the end (panics when it is not well-formed) and returns the text of
/// every element, as (element name, text).
pub fn well_formed(xml: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML ({e}): {xml}")) {
            Event::Start(e) => stack.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap()),
            Event::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "balanced tags");
            }
            Event::Text(t) => {
                if let Some(top) = stack.last() {
                    texts.push((top.clone(), t.decode().unwrap().into_owned()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "every element closed");
    texts
}

fn texts_of(xml: &str, element: &str) -> Vec<String> {
    well_formed(xml).into_iter().filter(|(n, _)| n == element).map(|(_, t)| t).collect()
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let res = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let res = reqwest::Client::new().post(format!("{}{path}", app.base)).form(fields).send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

/// A key issued on the office's page, as an operator would hand it to a civic app.
async fn issue_key(app: &TestApp, name: &str) -> String {
    let office = app.login("admin").await;
    let (status, page, _) = office.post("/open311/keys", &[("name", name)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let at = page.find("<code id=\"new-key\">").expect("the new key is shown once") + 19;
    page[at..].split('<').next().unwrap().to_string()
}

/// Asserts the spec's error list in both formats: the status, and code + description in each entry.
fn assert_errors(status: StatusCode, body: &str, xml: bool, expected: u16) {
    assert_eq!(status.as_u16(), expected, "{body}");
    if xml {
        let codes = texts_of(body, "code");
        assert!(!codes.is_empty() && codes.iter().all(|c| c == &expected.to_string()), "{body}");
        assert!(texts_of(body, "description").iter().all(|d| !d.is_empty()));
    } else {
        let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON error list: {body}"));
        let list = v.as_array().expect("a list of errors");
        assert!(!list.is_empty());
        for e in list {
            assert_eq!(e["code"], expected);
            assert!(!e["description"].as_str().unwrap().is_empty());
        }
    }
}

both!(discovery_services_and_definitions_in_json_and_xml, |app: TestApp| async move {
    let (status, ct, body) = get(&app, "/open311/v2/discovery.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/json"));
    let d: Value = serde_json::from_str(&body).unwrap();
    let endpoint = &d["endpoints"][0];
    assert_eq!(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert!(endpoint["url"].as_str().unwrap().ends_with("/open311/v2"));
    assert_eq!(endpoint["formats"], serde_json::json!(["text/xml", "application/json"]));
    let (status, ct, xml) = get(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/xml"));
    assert_eq!(texts_of(&xml, "format"), ["text/xml", "application/json"]);

    let (_, _, body) = get(&app, "/open311/v2/services.json").await;
    let services: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert!(services.len() > 5);
    for s in &services {
        for key in ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"] {
            assert!(s.get(key).is_some(), "{key} in {s}");
        }
        assert!(["realtime", "batch", "blackbox"].contains(&s["type"].as_str().unwrap()));
    }
    let (_, _, xml) = get(&app, "/open311/v2/services.xml").await;
    let codes = texts_of(&xml, "service_code");
    assert_eq!(codes.len(), services.len());
    assert_eq!(codes[0], services[0]["service_code"].as_str().unwrap());

    let code = services[0]["service_code"].as_str().unwrap();
    let (status, _, body) = get(&app, &format!("/open311/v2/services/{code}.json")).await;
    assert_eq!(status, StatusCode::OK);
    let def: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(def["service_code"], code);
    let attrs = def["attributes"].as_array().unwrap();
    for a in attrs {
        for key in ["variable", "code", "datatype", "required", "datatype_description", "order", "description"] {
            assert!(a.get(key).is_some(), "{key} in {a}");
        }
    }
    let list = attrs.iter().find(|a| a["datatype"] == "singlevaluelist").expect("a value list");
    assert!(list["values"][0]["key"].is_string() && list["values"][0]["name"].is_string());
    let (_, _, xml) = get(&app, &format!("/open311/v2/services/{code}.xml")).await;
    assert_eq!(texts_of(&xml, "service_code"), [code]);
    assert!(texts_of(&xml, "key").contains(&"yes".to_string()));
    // Unknown things: 404 in the spec's shape, in the format asked for.
    let (status, _, body) = get(&app, "/open311/v2/services/0000.json").await;
    assert_errors(status, &body, false, 404);
    let (status, _, body) = get(&app, "/open311/v2/services/0000.xml").await;
    assert_errors(status, &body, true, 404);
    let (status, _, body) = get(&app, "/open311/v2/services.json?jurisdiction_id=elsewhere.example").await;
    assert_errors(status, &body, false, 404);
    let (status, _, body) = get(&app, "/open311/v2/requests/R000.xml").await;
    assert_errors(status, &body, true, 404);
});

both!(requests_are_created_with_a_key_in_both_encodings_and_reach_triage, |app: TestApp| async move {
    let key = issue_key(&app, "街道公众号").await;
    let (_, lng, lat, _) = point_in_grid_area(&app).await;
    let (_, _, body) = get(&app, "/open311/v2/services.json").await;
    let services: Vec<Value> = serde_json::from_str(&body).unwrap();
    let code = services[0]["service_code"].as_str().unwrap().to_string();
    let (lat_s, lng_s) = (lat.to_string(), lng.to_string());
    let fields = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![("service_code", code.clone()), ("lat", lat_s.clone()), ("long", lng_s.clone())];
        f.push(("description", "路口护栏被撞坏".into()));
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    // Errors first: no key 403, a wrong key 403, no service 400, an unknown service 404, a bad
    // coordinate 400; each in both formats.
    for xml in [false, true] {
        let path = if xml { "/open311/v2/requests.xml" } else { "/open311/v2/requests.json" };
        let f = fields(&[]);
        let plain: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = post_form(&app, path, &plain).await;
        assert_errors(status, &body, xml, 403);
        let mut wrong = plain.clone();
        wrong.push(("api_key", "cc311_not_a_key"));
        let (status, body) = post_form(&app, path, &wrong).await;
        assert_errors(status, &body, xml, 403);
        let (status, body) = post_form(&app, path, &[("api_key", &key), ("lat", "30.5"), ("long", "117.0")]).await;
        assert_errors(status, &body, xml, 400);
        let mut unknown = plain.clone();
        unknown[0] = ("service_code", "0000");
        unknown.push(("api_key", &key));
        let (status, body) = post_form(&app, path, &unknown).await;
        assert_errors(status, &body, xml, 404);
        let mut bad = plain.clone();
        bad[1] = ("lat", "north");
        bad.push(("api_key", &key));
        let (status, body) = post_form(&app, path, &bad).await;
        assert_errors(status, &body, xml, 400);
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM reports").await, 0, "no refused request left anything");

    // Form-urlencoded, the key in the body: JSON answer with the id and a token.
    let f =
        fields(&[("attribute[hazard]", "yes"), ("first_name", "Lei"), ("last_name", "Wang"), ("phone", "13900001111")]);
    let mut plain: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    plain.push(("api_key", &key));
    let (status, body) = post_form(&app, "/open311/v2/requests.json", &plain).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap().to_string();
    let token = created[0]["token"].as_str().unwrap().to_string();
    // The key in the query string, the answer in XML.
    let f = fields(&[]);
    let plain: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, xml) = post_form(&app, &format!("/open311/v2/requests.xml?api_key={key}"), &plain).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    let second = texts_of(&xml, "service_request_id").remove(0);
    // Multipart with a photo in `media`: it arrives in the triage queue with the photo.
    let mut form = reqwest::multipart::Form::new().text("api_key", key.clone());
    for (k, v) in fields(&[]) {
        form = form.text(k, v);
    }
    form = form.part(
        "media",
        reqwest::multipart::Part::bytes(jpeg_bytes(23)).file_name("photo.jpg").mime_str("image/jpeg").unwrap(),
    );
    let res = reqwest::Client::new()
        .post(format!("{}/open311/v2/requests.json", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let with_photo: Value = res.json().await.unwrap();
    let third = with_photo[0]["service_request_id"].as_str().unwrap().to_string();
    let admin = app.api_login("admin").await;
    let (_, queue) = admin.get("/api/v1/reports").await;
    let row =
        queue["items"].as_array().unwrap().iter().find(|r| r["code"] == third.as_str()).expect("in triage").clone();
    let (_, detail) = admin.get(&format!("/api/v1/reports/{}", row["id"].as_str().unwrap())).await;
    assert_eq!(detail["photos"].as_array().unwrap().len(), 1);
    assert_eq!(detail["channel"], "open311");
    let description = app.id_of(&format!("SELECT description FROM reports WHERE code = '{id}'")).await;
    assert!(description.ends_with("（存在安全隐患）"), "the hazard attribute is kept: {description}");

    // Tokens lead to the id; requests/{id} in both formats, times with a zone.
    let (_, _, body) = get(&app, &format!("/open311/v2/tokens/{token}.json")).await;
    let t: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (t[0]["service_request_id"].as_str(), t[0]["token"].as_str()),
        (Some(id.as_str()), Some(token.as_str()))
    );
    let (_, _, xml) = get(&app, &format!("/open311/v2/tokens/{token}.xml")).await;
    assert_eq!(texts_of(&xml, "service_request_id"), std::slice::from_ref(&id));
    let (_, _, body) = get(&app, &format!("/open311/v2/requests/{id}.json")).await;
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r.as_array().unwrap().len(), 1);
    let one = &r[0];
    assert_eq!((one["status"].as_str(), one["service_code"].as_str()), (Some("open"), Some(code.as_str())));
    let requested = one["requested_datetime"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(requested).is_ok() && requested.ends_with("+08:00"), "{requested}");
    assert!(one.get("phone").is_none() && !body.contains("13900001111") && !body.contains("Wang"), "no personal data");
    let (_, _, xml) = get(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    assert_eq!(texts_of(&xml, "status"), ["open"]);
    assert_eq!(texts_of(&xml, "lat")[0].parse::<f64>().unwrap(), lat);

    // The list: by ids, by service, by dates, by status, paged.
    let (_, _, body) = get(&app, &format!("/open311/v2/requests.json?service_request_id={id},{second}")).await;
    let both_ids: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(both_ids.len(), 2);
    let (_, _, body) = get(&app, "/open311/v2/requests.json?page_size=2&page=1").await;
    let page1: Vec<Value> = serde_json::from_str(&body).unwrap();
    let (_, _, body) = get(&app, "/open311/v2/requests.json?page_size=2&page=2").await;
    let page2: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!((page1.len(), page2.len()), (2, 1));
    assert!(page1.iter().all(|a| page2.iter().all(|b| a["service_request_id"] != b["service_request_id"])));
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::hours(1)).to_rfc3339();
    let end = (now + chrono::Duration::hours(1)).to_rfc3339();
    let q = format!("start_date={}&end_date={}&status=open", urlencode(&start), urlencode(&end));
    let (_, _, body) = get(&app, &format!("/open311/v2/requests.json?{q}&service_code={code}")).await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 3);
    let (_, _, xml) = get(&app, &format!("/open311/v2/requests.xml?{q}")).await;
    assert_eq!(texts_of(&xml, "service_request_id").len(), 3);
    let (_, _, body) = get(&app, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 0);
    let old = urlencode(&(now - chrono::Duration::days(3)).to_rfc3339());
    let (_, _, body) = get(&app, &format!("/open311/v2/requests.json?end_date={old}")).await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 0);
    for bad in ["start_date=yesterday", "status=pending", "page_size=0", "page=-1"] {
        let (status, _, body) = get(&app, &format!("/open311/v2/requests.json?{bad}")).await;
        assert_errors(status, &body, false, 400);
        let (status, _, body) = get(&app, &format!("/open311/v2/requests.xml?{bad}")).await;
        assert_errors(status, &body, true, 400);
    }

    // Revoked on the office's page: refused from then on; the audit log says who.
    let key_id = app.id_of("SELECT id FROM open311_keys").await;
    let office = app.login("admin").await;
    let (status, _, _) = office.post(&format!("/open311/keys/{key_id}/revoke"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut plain: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    plain.push(("api_key", &key));
    let (status, body) = post_form(&app, "/open311/v2/requests.json", &plain).await;
    assert_errors(status, &body, false, 403);
    let audited =
        format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{key_id}' AND action IN ('create', 'delete')");
    assert_eq!(app.scalar(&audited).await, 2, "issued and revoked, both audited");
});
