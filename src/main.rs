//! 创城通 command line: serve, migrate, demo, user management.

use anyhow::{Context, bail};
use chuangcheng::app::{Application, init_logging, open_db};
use chuangcheng::config::Config;
use chuangcheng::service::{Ctx, CurrentUser, users};
use chuangcheng::{demo, error::AppError};
use clap::{Args, Parser, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "chuangcheng", version, about = "创城通：全国文明城市创建工作平台 (civilized-city campaign platform)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// 配置文件 (TOML) / config file
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// 监听地址 / listen address, HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,
    /// 数据目录 / data directory (SQLite database, uploads)
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// 数据库地址 / database URL: sqlite://… or postgres://…
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

impl Common {
    fn config(&self) -> anyhow::Result<Config> {
        let mut c = Config::load(self.config.as_deref())?;
        if let Some(a) = &self.addr {
            c.addr = a.clone();
        }
        if let Some(d) = &self.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(u) = &self.database_url {
            c.database_url = u.clone();
        }
        Ok(c)
    }
}

#[derive(Subcommand)]
enum Command {
    /// 启动服务 / run the server
    Serve(Common),
    /// 执行数据库迁移 / apply database migrations and exit
    Migrate(Common),
    /// 生成演示城市（数据库为空时）并启动服务 / create the demo city if the database is empty, then serve
    Demo {
        #[command(flatten)]
        common: Common,
        /// admin 账号的密码 / password for the `admin` account
        #[arg(long, default_value = demo::DEFAULT_PASSWORD)]
        admin_password: String,
        /// 城市规模倍数 / multiply the demo city N times for load tests
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        scale: u32,
    },
    /// 用户管理 / manage accounts
    #[command(subcommand)]
    User(UserCommand),
    /// 发放Open311接口密钥（只显示一次）/ issue an Open311 API key and print it (shown once)
    #[command(name = "open311-key")]
    Open311Key {
        #[command(flatten)]
        common: Common,
        /// 使用该密钥的应用或单位 / the app or organisation the key is for
        #[arg(long)]
        name: String,
    },
    /// 备份数据库与照片到新目录 / back up the database and the photos into a new folder
    Backup {
        #[command(flatten)]
        common: Common,
        /// 备份目录（新的或空的）/ the backup folder (new or empty)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// 从备份恢复（须先停止服务）/ restore a backup (stop the server first)
    Restore {
        #[command(flatten)]
        common: Common,
        /// 备份目录 / the backup folder
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// 覆盖已有数据 / replace a database that already holds a city
        #[arg(long)]
        force: bool,
    },
    /// 性能基准 / benchmark: generate problems, print one JSON line per measurement
    Bench {
        #[command(flatten)]
        common: Common,
        /// 生成的问题数 / problems to generate
        #[arg(long, default_value_t = 1_000_000)]
        problems: u64,
        /// 问题分布的年数；0 = 压力情形（全部集中在最近90天） / spread the problems over this many
        /// years (older than 30 days: settled); 0 = the stress case, all in the last 90 days
        #[arg(long, default_value_t = 0)]
        years: u32,
        /// 并发登记的问题数 / problems filed over HTTP by 16 clients
        #[arg(long, default_value_t = 5_000)]
        intake: u64,
        /// 复用已生成的数据库 / measure an existing bench.db again instead of regenerating
        #[arg(long)]
        reuse: bool,
        /// 只运行名称包含该词的测量 / run only the measurements whose name contains this (e.g. ranking)
        #[arg(long)]
        only: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新建账号 / add an account
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
        /// 姓名 / display name
        #[arg(long)]
        name: String,
        /// admin | supervisor | unit_user | point_lead | grid_worker | evaluator | discipline
        #[arg(long)]
        role: String,
        /// 所属单位名称 / unit name (unit_user, point_lead)
        #[arg(long)]
        unit: Option<String>,
        /// 负责区域编码 / area code (grid_worker)
        #[arg(long)]
        area: Option<String>,
        #[arg(long, default_value = "")]
        phone: String,
        /// 密码；省略时从标准输入读取一行 / password; read from stdin when omitted
        #[arg(long)]
        password: Option<String>,
    },
    /// 重置密码 / set an account's password
    Passwd {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
        /// 新密码；省略时从标准输入读取一行 / new password; read from stdin when omitted
        #[arg(long)]
        password: Option<String>,
    },
    /// 重置两步验证（手机丢失且恢复码用完）/ clear an account's authenticator (lost phone, no recovery code left)
    ResetTwoStep {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        username: String,
    },
}

fn read_password(given: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    eprintln!("请输入密码 / enter password:");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Turns a use-case error into a clear command-line message.
fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(fields) => {
            let lines: Vec<String> =
                fields.0.iter().map(|f| format!("  {}: {} ({})", f.field, f.message, f.code)).collect();
            anyhow::anyhow!("输入有误 / invalid input:\n{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other} ({})", other.code()),
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("错误 / error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(common) => {
            let config = common.config()?;
            init_logging(&config.log_format);
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "创城通 listening");
            app.run_until_stopped().await
        }
        Command::Migrate(common) => {
            let config = common.config()?;
            init_logging(&config.log_format);
            open_db(&config).await?;
            println!("数据库迁移完成 / migrations applied");
            Ok(())
        }
        Command::Demo { common, admin_password, scale } => {
            let mut config = common.config()?;
            let two_step_default = config.admin_two_step.is_none();
            config.admin_two_step.get_or_insert(false);
            // Without a text gateway the demo shows verification codes on the page.
            config.sms_show_codes = config.sms_url.trim().is_empty();
            init_logging(&config.log_format);
            let db = open_db(&config).await?;
            let summary = demo::seed_if_empty(&db, &admin_password, scale).await.map_err(explain)?;
            if summary.created {
                let storage = chuangcheng::media::storage::Storage::from_config(&config)?;
                let s = demo::problems::seed(&db, &storage).await.map_err(explain)?;
                print_seeded(&s);
            }
            let app = Application::with_db(config, db).await?;
            println!("{}", summary.describe(&format!("http://{}", app.local_addr())));
            if two_step_default {
                println!(
                    "两步验证 / two-step sign-in: 演示时管理员不强制（正式部署 `serve` 默认强制）；\
                     可在“系统管理 → 两步验证”中启用，或以 CHUANGCHENG_ADMIN_TWO_STEP=true 启动演示"
                );
            }
            app.run_until_stopped().await
        }
        Command::User(cmd) => user_command(cmd).await,
        Command::Open311Key { common, name } => open311_key(common, &name).await,
        Command::Backup { common, out } => {
            let m = chuangcheng::backup::backup(&common.config()?, &out).await?;
            println!(
                "备份完成 / backup written: {} ({}，照片文件{}个，问题{}个，审计记录{}条)",
                out.display(),
                m.backend,
                m.media_files,
                m.counts["problems"],
                m.counts["audit_log"]
            );
            Ok(())
        }
        Command::Restore { common, from, force } => {
            let m = chuangcheng::backup::restore(&common.config()?, &from, force).await?;
            println!(
                "恢复完成 / restored: {}的备份（照片文件{}个，问题{}个，审计记录{}条）",
                m.created_at, m.media_files, m.counts["problems"], m.counts["audit_log"]
            );
            Ok(())
        }
        Command::Bench { common, problems, years, intake, reuse, only } => {
            let mut config = common.config()?;
            config.log_format = "text".into();
            // Silent by default (its output is the JSON lines); RUST_LOG=sqlx::query=debug shows
            // each statement with its time, on stderr.
            if std::env::var_os("RUST_LOG").is_some() {
                let filter = tracing_subscriber::EnvFilter::from_default_env();
                let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
            }
            chuangcheng::bench::run(config, problems, years, intake, reuse, only).await
        }
    }
}

/// Issues an Open311 key: the key alone on stdout (for scripts), the rest on stderr.
/// What the demo's activity made, one line per part of the campaign.
fn print_seeded(s: &demo::problems::Seeded) {
    let h = &s.history;
    println!(
        "演示历史 / history: 近四周问题 {} 个，流动红旗 {} 面，已发布通报简报 {} 期；今日问题 {} 个，市民随手拍 {} 条，窗口好差评 {} 条",
        h.problems, h.red_flags, h.notices, s.today, s.reports, s.ratings
    );
    let e = &s.evaluation;
    println!(
        "测评迎检 / evaluation season: 模拟测评 {} 轮（已测评点位 {} 个），网上申报已上传 {} 项，问卷答卷 {} 份，城市指标两年数据",
        e.rounds, e.visits, e.materials, e.responses
    );
    let c = &s.community;
    println!(
        "社区共建 / community: 近四周点位每日汇报 {} 条，志愿者 {} 人（已确认服务 {} 小时），居民建议 {} 条",
        c.reports, c.volunteers, c.hours, c.suggestions
    );
}

async fn open311_key(common: Common, name: &str) -> anyhow::Result<()> {
    let config = common.config()?;
    init_logging(&config.log_format);
    let db = open_db(&config).await?;
    let system = CurrentUser::system();
    let ctx = Ctx { db: &db, user: &system, request_id: "cli" };
    let (k, key) = chuangcheng::service::reports::issue_key(&ctx, name).await.map_err(explain)?;
    eprintln!("已发放Open311接口密钥 / key issued for {}（编号 {}，请妥善保存，只显示这一次）", k.name, k.id);
    println!("{key}");
    Ok(())
}

async fn user_command(cmd: UserCommand) -> anyhow::Result<()> {
    let (common, username) = match &cmd {
        UserCommand::Add { common, username, .. }
        | UserCommand::Passwd { common, username, .. }
        | UserCommand::ResetTwoStep { common, username } => (common.clone(), username.clone()),
    };
    let config = common.config()?;
    init_logging(&config.log_format);
    let db = open_db(&config).await?;
    let system = CurrentUser::system();
    let ctx = Ctx { db: &db, user: &system, request_id: "cli" };
    match cmd {
        UserCommand::Add { name, role, unit, area, phone, password, .. } => {
            let unit_id = match unit {
                Some(n) => Some(
                    chuangcheng::store::units::id_by_name(&db, &n)
                        .await?
                        .with_context(|| format!("找不到单位 / no unit named {n}"))?,
                ),
                None => None,
            };
            let area_id = match area {
                Some(c) => Some(
                    chuangcheng::store::org::id_by_code(&db, &c)
                        .await?
                        .with_context(|| format!("找不到区域编码 / no area with code {c}"))?,
                ),
                None => None,
            };
            let input = users::UserInput {
                username: username.clone(),
                display_name: name,
                role,
                unit_id,
                area_id,
                phone,
                password: read_password(password)?,
                active: Some(true),
                version: None,
            };
            users::create(&ctx, input).await.map_err(explain)?;
            println!("已创建账号 / account created: {username}");
        }
        UserCommand::Passwd { password, .. } => {
            let Some(user) = chuangcheng::store::users::by_username(&db, &username).await? else {
                bail!("找不到账号 / no account named {username}");
            };
            let pw = read_password(password)?;
            let input =
                users::PasswordInput { old_password: String::new(), new_password: pw.clone(), confirm_password: pw };
            users::reset_password(&ctx, &user.id, input).await.map_err(explain)?;
            println!("密码已更新 / password changed: {username}");
        }
        UserCommand::ResetTwoStep { .. } => {
            let Some(user) = chuangcheng::store::users::by_username(&db, &username).await? else {
                bail!("找不到账号 / no account named {username}");
            };
            chuangcheng::service::two_step::reset(&ctx, &user.id).await.map_err(explain)?;
            println!("两步验证已重置，下次登录时重新绑定 / two-step sign-in cleared: {username}");
        }
    }
    Ok(())
}
