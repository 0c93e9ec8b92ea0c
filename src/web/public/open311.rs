//! Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2/, so that civic
//! apps and FixMyStreet-style front ends can report to the city: discovery, services and their
//! definitions, requests (list, one, create with a photo), tokens; every resource in JSON and
//! XML; errors as the spec's list of code and description with 400 / 403 / 404. Reports sent here
//! land in the same triage queue as the 随手拍 page's, under the client's key.

use super::gate::CACHE_HEADER;
use crate::domain::citizen::{self, Channel};
use crate::error::{AppError, Code};
use crate::service::reports::{self as service, Sender, SubmitInput};
use crate::store::PageReq;
use crate::store::reports::{self as store, PublicRow};
use crate::web::AppState;
use crate::web::auth::client_ip;
use crate::web::limits;
use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/discovery.json", get(|s, h| discovery(s, h, false)))
        .route("/open311/v2/discovery.xml", get(|s, h| discovery(s, h, true)))
        .route("/open311/v2/services.json", get(|s, q| services(s, q, false)))
        .route("/open311/v2/services.xml", get(|s, q| services(s, q, true)))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route(
            "/open311/v2/requests.json",
            get(|s, h, q| list(s, h, q, false))
                .merge(limits::public_photos(axum::routing::post(|s, r| create(s, r, false)))),
        )
        .route(
            "/open311/v2/requests.xml",
            get(|s, h, q| list(s, h, q, true))
                .merge(limits::public_photos(axum::routing::post(|s, r| create(s, r, true)))),
        )
        .route("/open311/v2/requests/{file}", get(one))
        .route("/open311/v2/tokens/{file}", get(token))
}

/// The spec's error list: `[{"code": 400, "description": "…"}]` or `<errors><error>…`.
pub fn errors(xml: bool, status: StatusCode, list: &[(u16, String)]) -> Response {
    let items: Vec<Value> = list.iter().map(|(c, d)| json!({"code": c, "description": d})).collect();
    respond(xml, status, "errors", items)
}

fn error(xml: bool, status: StatusCode, description: impl Into<String>) -> Response {
    errors(xml, status, &[(status.as_u16(), description.into())])
}

/// Our refusals in the spec's shape: validation as 400 (one entry per field), a bad key 403,
/// unknown things 404, too many 429.
fn refused(xml: bool, e: AppError) -> Response {
    match e {
        AppError::Validation(f) => {
            let list: Vec<(u16, String)> = f.0.iter().map(|x| (400, format!("{}：{}", x.field, x.message))).collect();
            errors(xml, StatusCode::BAD_REQUEST, &list)
        }
        AppError::NotFound => error(xml, StatusCode::NOT_FOUND, "记录不存在"),
        AppError::Refused(code, message) | AppError::Rejected(code, message, _) => {
            let status = match code.status() {
                403 => StatusCode::FORBIDDEN,
                404 => StatusCode::NOT_FOUND,
                429 => StatusCode::TOO_MANY_REQUESTS,
                413 => StatusCode::PAYLOAD_TOO_LARGE,
                s if s >= 500 => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            error(xml, status, message)
        }
        other => {
            tracing::error!(error = %other, "open311 request failed");
            error(xml, StatusCode::INTERNAL_SERVER_ERROR, Code::InternalError.message())
        }
    }
}

/// The child element of a list in XML.
fn singular(list: &str) -> &'static str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "errors" => "error",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        _ => "item",
    }
}

fn xml_value(name: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            let child = singular(name);
            for i in items {
                xml_value(child, i, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                xml_value(k, v, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", super::feeds::esc(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// A list resource in the format asked for: a JSON array, or XML under `root`.
fn respond(xml: bool, status: StatusCode, root: &str, items: Vec<Value>) -> Response {
    if xml {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        xml_value(root, &Value::Array(items), &mut out);
        (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], Value::Array(items).to_string())
            .into_response()
    }
}

fn cached(mut res: Response, seconds: &'static str) -> Response {
    res.headers_mut().insert(CACHE_HEADER, header::HeaderValue::from_static(seconds));
    res
}

use super::pages::base_url;

/// The one jurisdiction this server answers for: the host of its public address, or the city's
/// code. An empty jurisdiction_id means this one.
async fn jurisdiction_ok(state: &AppState, given: Option<&str>) -> bool {
    let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else { return true };
    let host = state.config.public_url.split("://").nth(1).and_then(|r| r.split(['/', ':']).next()).unwrap_or("");
    let city: Option<String> =
        sqlx::query_scalar("SELECT code FROM org_nodes WHERE parent_id IS NULL ORDER BY code LIMIT 1")
            .fetch_optional(&state.db.pool)
            .await
            .ok()
            .flatten();
    (!host.is_empty() && given.eq_ignore_ascii_case(host)) || city.as_deref() == Some(given) || given == "chuangcheng"
}

/// Query parameters as given (repeated keys: the last one).
fn params(raw: Option<&str>) -> HashMap<String, String> {
    serde_html_form::from_str::<Vec<(String, String)>>(raw.unwrap_or("")).unwrap_or_default().into_iter().collect()
}

/// `R2026….json` → (`R2026…`, xml?) ; None for another extension.
fn split_format(file: &str) -> Option<(&str, bool)> {
    if let Some(id) = file.strip_suffix(".json") {
        Some((id, false))
    } else {
        file.strip_suffix(".xml").map(|id| (id, true))
    }
}

async fn discovery(State(state): State<AppState>, headers: HeaderMap, xml: bool) -> Response {
    let base = base_url(&state, &headers);
    let d = json!({
        "changeset": "2026-12-03T00:00:00+08:00",
        "contact": "请联系本市文明办（创城办）",
        "key_service": format!("{base}/open311/keys （由文明办发放和停用）"),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{base}/open311/v2"),
            "changeset": "2026-12-03T00:00:00+08:00",
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    });
    let res = if xml {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        xml_value("discovery", &d, &mut out);
        ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], d.to_string()).into_response()
    };
    cached(res, "300")
}

async fn services(State(state): State<AppState>, RawQuery(raw): RawQuery, xml: bool) -> Response {
    let p = params(raw.as_deref());
    if !jurisdiction_ok(&state, p.get("jurisdiction_id").map(String::as_str)).await {
        return error(xml, StatusCode::NOT_FOUND, "jurisdiction_id不存在");
    }
    let list = match service::services(&state.db).await {
        Ok(l) => l,
        Err(e) => return refused(xml, e),
    };
    let items = list
        .into_iter()
        .map(|s| {
            json!({"service_code": s.code, "service_name": s.name, "description": s.description, "metadata": true,
                "type": "realtime", "keywords": s.name, "group": s.group})
        })
        .collect();
    cached(respond(xml, StatusCode::OK, "services", items), "300")
}

/// The attributes every service asks for besides the standard fields.
fn attributes() -> Value {
    json!([
        {"variable": true, "code": "landmark", "datatype": "string", "required": false,
         "datatype_description": "附近的标志物或门牌号", "order": 1, "description": "位置说明"},
        {"variable": true, "code": "hazard", "datatype": "singlevaluelist", "required": false,
         "datatype_description": "是否存在安全隐患", "order": 2, "description": "安全隐患",
         "values": [{"key": "yes", "name": "存在安全隐患"}, {"key": "no", "name": "无安全隐患"}]},
    ])
}

async fn service_definition(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, xml)) = split_format(&file) else {
        return error(false, StatusCode::NOT_FOUND, "请求的格式应为.json或.xml");
    };
    match service::service(&state.db, code).await {
        Ok(Some(s)) => {
            let d = json!({"service_code": s.code, "attributes": attributes()});
            let res = if xml {
                let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
                xml_value("service_definition", &d, &mut out);
                ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
            } else {
                ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], d.to_string()).into_response()
            };
            cached(res, "300")
        }
        Ok(None) => error(xml, StatusCode::NOT_FOUND, Code::UnknownService.message()),
        Err(e) => refused(xml, e),
    }
}

fn rfc3339(ms: i64) -> String {
    crate::domain::time::to_local(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A request as Open311 describes it (public fields only).
async fn request_json(state: &AppState, base: &str, r: &PublicRow) -> Value {
    let r = &r.clone().for_public();
    let photo: Option<String> = sqlx::query_scalar(
        "SELECT MIN(id) FROM photos WHERE (owner_type = 'report' AND owner_id = $1) OR (owner_type = 'problem' AND owner_id = $2 AND kind = 'before')",
    )
    .bind(&r.id)
    .bind(r.problem_id.clone().unwrap_or_default())
    .fetch_one(&state.db.pool)
    .await
    .ok()
    .flatten();
    let public_photo = match &photo {
        Some(id) => store::photo_is_public(&state.db, id).await.unwrap_or(false),
        None => false,
    };
    let status = citizen::open311_status(r.state, r.problem_state);
    let notes = if r.public_note.is_empty() {
        citizen::public_state(r.state, r.problem_state).to_string()
    } else {
        format!("{}：{}", citizen::public_state(r.state, r.problem_state), r.public_note)
    };
    json!({
        "service_request_id": r.code,
        "status": status,
        "status_notes": notes,
        "service_name": r.category.split('·').nth(1).unwrap_or(&r.category),
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.unit_name.clone().unwrap_or_default(),
        "service_notice": "市民反映经核实后派给责任单位，按标准时限整改",
        "requested_datetime": rfc3339(r.created_at),
        "updated_datetime": rfc3339(r.closed_at.unwrap_or(r.updated_at).max(r.updated_at)),
        "expected_datetime": r.deadline_at.map(rfc3339),
        "address": r.address,
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": r.lat,
        "long": r.lng,
        "media_url": if public_photo { photo.map(|id| format!("{base}/public/photos/{id}")) } else { None },
    })
}

fn parse_datetime(p: &HashMap<String, String>, key: &str) -> Result<Option<i64>, String> {
    match p.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| Some(d.timestamp_millis()))
            .map_err(|_| format!("{key}应为带时区的W3C时间，如2026-12-01T00:00:00+08:00")),
    }
}

async fn list(State(state): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery, xml: bool) -> Response {
    let p = params(raw.as_deref());
    if !jurisdiction_ok(&state, p.get("jurisdiction_id").map(String::as_str)).await {
        return error(xml, StatusCode::NOT_FOUND, "jurisdiction_id不存在");
    }
    let mut problems = Vec::new();
    let start = parse_datetime(&p, "start_date").unwrap_or_else(|e| {
        problems.push((400, e));
        None
    });
    let end = parse_datetime(&p, "end_date").unwrap_or_else(|e| {
        problems.push((400, e));
        None
    });
    let status = match p.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let set: Vec<&str> = s.split(',').map(str::trim).collect();
            if set.iter().any(|x| *x != "open" && *x != "closed") {
                problems.push((400, "status应为open或closed（可用逗号分隔）".to_string()));
            }
            if set.contains(&"open") && set.contains(&"closed") { None } else { set.first().map(|x| x.to_string()) }
        }
    };
    let number = |key: &str, default: i64, max: i64, problems: &mut Vec<(u16, String)>| match p.get(key) {
        None => default,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                problems.push((400, format!("{key}应为1至{max}的整数")));
                default
            }
        },
    };
    let page = number("page", 1, 100_000, &mut problems);
    let size = number("page_size", 50, 200, &mut problems);
    if !problems.is_empty() {
        return errors(xml, StatusCode::BAD_REQUEST, &problems);
    }
    let ids: Option<Vec<String>> = p
        .get("service_request_id")
        .map(|s| s.split(',').map(|x| x.trim().to_uppercase()).filter(|x| !x.is_empty()).take(200).collect());
    // Without ids or dates the spec's default: the last 90 days.
    let start = if ids.is_none() && start.is_none() && end.is_none() {
        Some(crate::domain::time::now_ms() - 90 * crate::domain::time::DAY_MS)
    } else {
        start
    };
    let code = p.get("service_code").map(|s| s.trim()).filter(|s| !s.is_empty());
    let rows = match store::open311_page(
        &state.db,
        ids.as_deref(),
        code,
        (start, end),
        status.as_deref(),
        PageReq { page, size },
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return refused(xml, e.into()),
    };
    let base = base_url(&state, &headers);
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(request_json(&state, &base, r).await);
    }
    cached(respond(xml, StatusCode::OK, "service_requests", items), "30")
}

async fn one(State(state): State<AppState>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let Some((id, xml)) = split_format(&file) else {
        return error(false, StatusCode::NOT_FOUND, "请求的格式应为.json或.xml");
    };
    let ids = [id.trim().to_uppercase()];
    let rows = match store::open311_page(&state.db, Some(&ids), None, (None, None), None, PageReq { page: 1, size: 1 })
        .await
    {
        Ok(r) => r,
        Err(e) => return refused(xml, e.into()),
    };
    let Some(r) = rows.first() else { return error(xml, StatusCode::NOT_FOUND, "service_request_id不存在") };
    let base = base_url(&state, &headers);
    let item = request_json(&state, &base, r).await;
    cached(respond(xml, StatusCode::OK, "service_requests", vec![item]), "30")
}

async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, xml)) = split_format(&file) else {
        return error(false, StatusCode::NOT_FOUND, "请求的格式应为.json或.xml");
    };
    match store::get(&state.db, token.trim()).await {
        Ok(Some(r)) if r.channel == Channel::Open311 => {
            respond(xml, StatusCode::OK, "service_requests", vec![json!({"service_request_id": r.code, "token": r.id})])
        }
        Ok(_) => error(xml, StatusCode::NOT_FOUND, "token不存在"),
        Err(e) => refused(xml, e.into()),
    }
}

/// The fields and the photo of a POST, form-urlencoded or multipart (with a `media` file).
async fn read_post(
    state: &AppState,
    req: Request,
) -> Result<(HashMap<String, String>, Vec<Vec<u8>>), (StatusCode, String)> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let query = params(req.uri().query());
    let mut fields = query;
    let mut files = Vec::new();
    let too_large = |s: StatusCode| {
        if s == StatusCode::PAYLOAD_TOO_LARGE {
            (s, Code::PayloadTooLarge.message().to_string())
        } else {
            (
                StatusCode::BAD_REQUEST,
                "请求内容无法识别，应为application/x-www-form-urlencoded或multipart/form-data".to_string(),
            )
        }
    };
    if multipart {
        let mut mp = axum::extract::Multipart::from_request(req, state).await.map_err(|e| too_large(e.status()))?;
        while let Some(field) = mp.next_field().await.map_err(|e| too_large(e.status()))? {
            let name = field.name().unwrap_or_default().to_string();
            if field.file_name().is_some() || name == "media" {
                let bytes = field.bytes().await.map_err(|e| too_large(e.status()))?;
                if !bytes.is_empty() {
                    if files.len() >= citizen::MAX_PHOTOS {
                        return Err((StatusCode::BAD_REQUEST, format!("media最多{}个文件", citizen::MAX_PHOTOS)));
                    }
                    files.push(bytes.to_vec());
                }
            } else if fields.len() < 64 {
                fields.insert(name, field.text().await.map_err(|e| too_large(e.status()))?);
            }
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), limits::SMALL)
            .await
            .map_err(|_| too_large(StatusCode::PAYLOAD_TOO_LARGE))?;
        let body: Vec<(String, String)> =
            serde_html_form::from_bytes(&bytes).map_err(|_| too_large(StatusCode::BAD_REQUEST))?;
        fields.extend(body.into_iter().take(64));
    }
    Ok((fields, files))
}

/// `lat` and `long` of a POST: both required (this city does not geocode address strings).
fn position(f: &HashMap<String, String>, xml: bool) -> Result<(Option<f64>, Option<f64>), Response> {
    let coordinate = |k: &str| -> Result<Option<f64>, Response> {
        match f.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => {
                s.parse::<f64>().map(Some).map_err(|_| error(xml, StatusCode::BAD_REQUEST, format!("{k}应为数字")))
            }
        }
    };
    let (lat, lng) = (coordinate("lat")?, coordinate("long")?);
    if lat.is_none() || lng.is_none() {
        return Err(error(
            xml,
            StatusCode::BAD_REQUEST,
            "请提供lat和long（WGS-84坐标）；本市不支持仅凭address_string定位",
        ));
    }
    Ok((lat, lng))
}

async fn create(State(state): State<AppState>, req: Request, xml: bool) -> Response {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, &state.config.trusted_proxies);
    let (f, media) = match read_post(&state, Request::from_parts(parts, body)).await {
        Ok(x) => x,
        Err((status, message)) => return error(xml, status, message),
    };
    let Some(_turn) = state.public.filing_turn().await else {
        return error(xml, StatusCode::SERVICE_UNAVAILABLE, "当前提交的人较多，请稍后再试");
    };
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let key = get("api_key");
    if key.is_empty() {
        return error(xml, StatusCode::FORBIDDEN, "缺少api_key：请向本市文明办申请");
    }
    let api_key = match service::check_key(&state.db, &key).await {
        Ok(k) => k,
        Err(e) => return refused(xml, e),
    };
    if !jurisdiction_ok(&state, f.get("jurisdiction_id").map(String::as_str)).await {
        return error(xml, StatusCode::NOT_FOUND, "jurisdiction_id不存在");
    }
    let code = get("service_code");
    if code.is_empty() {
        return error(xml, StatusCode::BAD_REQUEST, "service_code必填");
    }
    match service::service(&state.db, &code).await {
        Ok(Some(_)) => {}
        Ok(None) => return error(xml, StatusCode::NOT_FOUND, Code::UnknownService.message()),
        Err(e) => return refused(xml, e),
    }
    let (lat, lng) = match position(&f, xml) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut description = get("description");
    let landmark = get("attribute[landmark]");
    if get("attribute[hazard]") == "yes" {
        description.push_str("（存在安全隐患）");
    }
    let name = format!("{}{}", get("last_name"), get("first_name"));
    let address =
        if landmark.is_empty() { get("address_string") } else { format!("{} {landmark}", get("address_string")) };
    let input = SubmitInput {
        service_code: code,
        description,
        lng,
        lat,
        address: address.trim().chars().take(100).collect(),
        name: name.chars().take(20).collect(),
        phone: get("phone"),
        email: get("email"),
        website: String::new(),
    };
    let sender = Sender {
        // A client app's reports are limited per app and per end user's address as it reports it.
        client: service::client_of(&format!("open311:{}:{}:{ip}", api_key.id, get("device_id"))),
        channel: Channel::Open311,
        api_key: Some(api_key),
    };
    match service::submit(&state.db, &state.storage, &state.config, &sender, input, (media, false)).await {
        Ok(s) => {
            state.public.forget();
            let item = json!({
                "service_request_id": s.report.code,
                "token": s.report.id,
                "service_notice": "已受理，经核实后派给责任单位整改",
                "account_id": Value::Null,
            });
            respond(xml, StatusCode::OK, "service_requests", vec![item])
        }
        Err(e) => refused(xml, e),
    }
}
