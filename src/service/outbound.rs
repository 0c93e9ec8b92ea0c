//! Requests the server makes on the office's behalf (group-chat robots): only to public
//! addresses, unless the configuration allows a host by name. The check is made when a robot is
//! connected and again at every connection, by the resolver itself, so a name that later
//! resolves to an inside address (DNS rebinding) is refused too; redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// An address anyone on the internet could reach: not loopback, private, link-local (the cloud
/// metadata service), carrier-grade NAT, multicast, documentation or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || first == 0x2001 && v6.segments()[1] == 0x0db8)
            }
        },
    }
}

/// Why a robot address cannot be used, in Chinese; None when it can.
pub async fn refuse_target(url: &str, allow: &[String]) -> Option<String> {
    let Ok(parsed) = reqwest::Url::parse(url) else { return Some("机器人地址不是有效的网址".into()) };
    let Some(host) = parsed.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string()) else {
        return Some("机器人地址缺少主机名".into());
    };
    if allow.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
        return None;
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            match tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host.as_str(), port))).await {
                Ok(Ok(found)) => found.map(|s| s.ip()).collect(),
                _ => return Some(format!("无法解析机器人地址的域名“{host}”，请检查网址")),
            }
        }
    };
    if addrs.is_empty() || addrs.iter().any(|ip| !is_public(*ip)) {
        return Some(format!(
            "机器人地址“{host}”指向内网或本机地址，不能使用；如确需使用内网机器人，请由运维人员加入配置 webhook_allow_hosts"
        ));
    }
    None
}

/// Resolves names to public addresses only (or any address of an allowed host).
struct PublicOnly {
    allow: Arc<Vec<String>>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let allowed = allow.iter().any(|a| a.eq_ignore_ascii_case(&host));
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found.into_iter().filter(|s| allowed || is_public(s.ip())).collect();
            if usable.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(usable.into_iter());
            Ok(addrs)
        })
    }
}

/// The client for robot deliveries: public addresses only, no redirects, a 10 s timeout.
pub fn client(allow: &[String]) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(PublicOnly { allow: Arc::new(allow.to_vec()) }))
        .build()
        .expect("HTTP client")
}

/// A literal IP in a URL never meets the resolver: it is checked here before each delivery.
pub fn literal_refused(url: &str, allow: &[String]) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else { return true };
    let Some(host) = parsed.host_str() else { return true };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    !allow.iter().any(|a| a.eq_ignore_ascii_case(host)) && host.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["203.208.60.1", "101.226.4.6", "2400:da00::6666"] {
            assert!(is_public(outside.parse().unwrap()), "{outside}");
        }
        assert!(literal_refused("http://127.0.0.1:9/hook", &[]));
        assert!(!literal_refused("http://127.0.0.1:9/hook", &["127.0.0.1".into()]));
        assert!(!literal_refused("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", &[]));
    }
}
