//! Excel import pages for units with contacts, grid attributes and standard drafts. Each shows
//! the template link, takes one .xlsx, and answers with a summary or the row-by-row report.

use crate::error::AppError;
use crate::service::access::require_admin;
use crate::service::exchange::{self as svc, ExchangeSummary};
use crate::service::sheet::RowError;
use crate::web::auth::{CsrfMultipart, PageUser};
use crate::web::error::PageResult;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Template, WebTemplate)]
#[template(path = "exchange/import.html")]
pub struct ImportPage {
    l: Layout,
    intro: &'static str,
    action: String,
    template: String,
    back: String,
    errors: Vec<RowError>,
    message: Option<(bool, String)>,
}

struct Kind {
    active: &'static str,
    title: &'static str,
    intro: &'static str,
    action: String,
    template: String,
    back: String,
}

fn units() -> Kind {
    Kind {
        active: "units",
        title: "导入责任单位及通讯录",
        intro: "“单位”表按名称新增或更新单位；“联系人”表中出现的单位，其通讯录整体替换。",
        action: "/units/import".into(),
        template: "/units/template.xlsx".into(),
        back: "/units".into(),
    }
}

fn grids() -> Kind {
    Kind {
        active: "grids",
        title: "导入网格属性",
        intro: "按网格编码更新网格名称、责任单位和网格员账号（空白表示清除）；网格边界请用GeoJSON导入。",
        action: "/grids/attributes".into(),
        template: "/grids?export=xlsx".into(),
        back: "/grids".into(),
    }
}

fn standards(id: &str) -> Kind {
    Kind {
        active: "standards",
        title: "导入标准条目（草稿）",
        intro: "用表格整体替换该草稿版本的全部条目。可先导出现行版本作为模板，修改后导入。",
        action: format!("/standards/{id}/import"),
        template: format!("/standards?version={id}&export=xlsx"),
        back: format!("/standards?version={id}"),
    }
}

fn eval_system() -> Kind {
    Kind {
        active: "indicators",
        title: "导入测评体系（新草稿）",
        intro: "用表格生成测评体系的草稿版本（已有草稿时整体替换其条目），核对后在测评体系页发布。可先导出现行版本作为模板，修改后导入。",
        action: "/indicators/import".into(),
        template: "/indicators/export.xlsx".into(),
        back: "/indicators".into(),
    }
}

pub async fn eval_system_form(user: PageUser) -> PageResult<ImportPage> {
    require_admin(&user.user)?;
    Ok(page(&user, eval_system(), Vec::new(), None))
}

pub async fn eval_system_import(form: CsrfMultipart) -> PageResult<Response> {
    let ctx = form.page.ctx();
    let import = async |b: &[u8]| {
        let (_, n) = crate::service::evaluations::import(&ctx, b).await?;
        Ok(ExchangeSummary { created: n, updated: 0, details: 0 })
    };
    run(&form, eval_system(), import).await
}

fn page(user: &PageUser, k: Kind, errors: Vec<RowError>, message: Option<(bool, String)>) -> ImportPage {
    ImportPage {
        l: Layout::new(&user.user, k.active, k.title),
        intro: k.intro,
        action: k.action,
        template: k.template,
        back: k.back,
        errors,
        message,
    }
}

pub async fn units_form(user: PageUser) -> PageResult<ImportPage> {
    require_admin(&user.user)?;
    Ok(page(&user, units(), Vec::new(), None))
}

pub async fn standards_form(user: PageUser, Path(id): Path<String>) -> PageResult<ImportPage> {
    require_admin(&user.user)?;
    Ok(page(&user, standards(&id), Vec::new(), None))
}

pub async fn grids_form(user: PageUser) -> PageResult<ImportPage> {
    require_admin(&user.user)?;
    Ok(page(&user, grids(), Vec::new(), None))
}

/// Runs an import and renders its outcome.
async fn run<F>(form: &CsrfMultipart, k: Kind, import: F) -> PageResult<Response>
where
    F: AsyncFnOnce(&[u8]) -> Result<ExchangeSummary, AppError>,
{
    let user = &form.page;
    require_admin(&user.user)?;
    let Some(file) = form.file("file") else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(user, k, Vec::new(), Some((false, "请选择要导入的Excel文件".into()))),
        )
            .into_response());
    };
    match import(&file.bytes).await {
        Ok(s) => {
            let msg = format!(
                "导入成功：新增 {} 条，更新 {} 条{}",
                s.created,
                s.updated,
                if s.details > 0 { format!("，写入明细 {} 条", s.details) } else { String::new() }
            );
            Ok(page(user, k, Vec::new(), Some((true, msg))).into_response())
        }
        Err(AppError::Rejected(_, message, rows)) => {
            let errors = rows;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(user, k, errors, Some((false, message)))).into_response())
        }
        Err(AppError::Refused(_, message)) => {
            Ok((StatusCode::CONFLICT, page(user, k, Vec::new(), Some((false, message)))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn units_import(form: CsrfMultipart) -> PageResult<Response> {
    let ctx = form.page.ctx();
    run(&form, units(), async |b: &[u8]| svc::import_units(&ctx, b).await).await
}

pub async fn grids_import(form: CsrfMultipart) -> PageResult<Response> {
    let ctx = form.page.ctx();
    run(&form, grids(), async |b: &[u8]| svc::import_grid_attributes(&ctx, b).await).await
}

pub async fn standards_import(Path(id): Path<String>, form: CsrfMultipart) -> PageResult<Response> {
    let ctx = form.page.ctx();
    run(&form, standards(&id), async |b: &[u8]| svc::import_standard(&ctx, &id, b).await).await
}

pub async fn units_template(user: PageUser) -> PageResult<Response> {
    require_admin(&user.user)?;
    let bytes = svc::units_template(&user.ctx()).await?;
    let disposition = format!(
        "attachment; filename=\"units-template.xlsx\"; filename*=UTF-8''{}",
        crate::web::auth::urlencode("责任单位导入模板.xlsx")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
