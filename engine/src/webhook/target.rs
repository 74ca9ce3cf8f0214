//! Where a webhook may send: the URL rules, and the addresses refused as
//! targets so that a tenant cannot make the server call into its own
//! network (server-side request forgery). A URL is checked when the webhook
//! is made or changed, and every address its host resolves to is checked
//! again just before each connection (a name that resolved to a public
//! address at creation may resolve to a private one later: DNS rebinding).
//! The setting `cot.webhook_allow_private` lifts the address rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// A webhook URL, checked: `http` or `https`, a host, no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given (serialized by the URL parser).
    pub url: String,
    /// Its host: a name, or an address literal.
    pub host: Host,
    /// Its port (the scheme's default when absent).
    pub port: u16,
}

/// The host of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, resolved at each delivery.
    Name(String),
    /// An IP address literal.
    Addr(IpAddr),
}

/// Reads and checks a webhook URL; the error says what is wrong.
pub fn parse(url: &str) -> Result<Target, String> {
    if url.len() > MAX_URL_BYTES {
        return Err(format!(
            "a URL is at most {MAX_URL_BYTES} bytes, this one {}",
            url.len()
        ));
    }
    let u = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("URL scheme {:?} is not http or https", u.scheme()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("a URL must not hold credentials: send them in a header (\"headers\")".into());
    }
    if u.fragment().is_some() {
        return Err("a URL must not have a #fragment".into());
    }
    let host = match u.host() {
        Some(url::Host::Domain(d)) => Host::Name(d.to_string()),
        Some(url::Host::Ipv4(a)) => Host::Addr(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => Host::Addr(IpAddr::V6(a)),
        None => return Err("a URL needs a host".into()),
    };
    let port = u.port_or_known_default().ok_or("a URL needs a port")?;
    Ok(Target {
        url: u.to_string(),
        host,
        port,
    })
}

impl Host {
    /// Names that mean this machine whatever DNS says (RFC 6761):
    /// `localhost` and every name under `.localhost`.
    pub fn is_local_name(&self) -> bool {
        match self {
            Host::Name(n) => {
                let n = n.trim_end_matches('.').to_ascii_lowercase();
                n == "localhost" || n.ends_with(".localhost")
            }
            Host::Addr(_) => false,
        }
    }
}

/// Why an address is no target, or `None` for a public one.
pub fn refused_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => v4_class(a),
        IpAddr::V6(a) => v6_class(a),
    }
}

fn v4_class(a: Ipv4Addr) -> Option<&'static str> {
    let [b0, b1, ..] = a.octets();
    Some(match () {
        _ if a.is_unspecified() || b0 == 0 => "unspecified (0.0.0.0/8)",
        _ if a.is_loopback() => "loopback (127.0.0.0/8)",
        _ if b0 == 10 => "private (10.0.0.0/8)",
        _ if b0 == 172 && (16..=31).contains(&b1) => "private (172.16.0.0/12)",
        _ if b0 == 192 && b1 == 168 => "private (192.168.0.0/16)",
        _ if b0 == 100 && (64..=127).contains(&b1) => "shared address space, CGNAT (100.64.0.0/10)",
        _ if a.is_link_local() => "link-local (169.254.0.0/16)",
        _ if b0 == 192 && b1 == 0 && a.octets()[2] == 0 => "IETF protocol assignments (192.0.0.0/24)",
        _ if b0 == 198 && (18..=19).contains(&b1) => "benchmarking (198.18.0.0/15)",
        _ if a.is_multicast() => "multicast (224.0.0.0/4)",
        _ if a.is_broadcast() => "broadcast (255.255.255.255)",
        _ if b0 >= 240 => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_class(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    // An IPv4 address in IPv6 clothing is judged as the IPv4 address:
    // mapped (::ffff:a.b.c.d), compatible (::a.b.c.d) and NAT64 (64:ff9b::/96).
    if let Some(v4) = a.to_ipv4_mapped() {
        return v4_class(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !a.is_unspecified() && !a.is_loopback() {
        return v4_class(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_class(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
    }
    Some(match () {
        _ if a.is_unspecified() => "unspecified (::)",
        _ if a.is_loopback() => "loopback (::1)",
        _ if s[0] & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        _ if s[0] & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        _ if s[0] & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        _ if a.is_multicast() => "multicast (ff00::/8)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse("https://hooks.example.com/cot?x=1").unwrap();
        assert_eq!(t.host, Host::Name("hooks.example.com".into()));
        assert_eq!(t.port, 443);
        let t = parse("http://93.184.216.34:8080/in").unwrap();
        assert_eq!(t.host, Host::Addr("93.184.216.34".parse().unwrap()));
        assert_eq!(t.port, 8080);
        let t = parse("http://[2606:2800:220:1::]/").unwrap();
        assert_eq!(t.port, 80);
        assert!(matches!(t.host, Host::Addr(IpAddr::V6(_))));
        let cases = [
            ("ftp://example.com/", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("gopher://example.com", "scheme"),
            ("example.com/hook", "not a URL"),
            ("https://user:pw@example.com/", "credentials"),
            ("https://example.com/#x", "fragment"),
            ("http://", "not a URL"),
        ];
        for (url, want) in cases {
            let e = parse(url).unwrap_err();
            assert!(e.contains(want), "{url}: {e}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert!(parse(&long).unwrap_err().contains("at most"));
    }

    #[test]
    fn local_names() {
        for n in ["localhost", "LOCALHOST.", "api.localhost"] {
            assert!(Host::Name(n.into()).is_local_name(), "{n}");
        }
        for n in ["localhost.example.com", "notlocalhost"] {
            assert!(!Host::Name(n.into()).is_local_name(), "{n}");
        }
    }

    #[test]
    fn address_classes() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "224.0.0.1",
            "239.1.1.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ];
        for a in refused {
            assert!(refused_class(a.parse().unwrap()).is_some(), "{a} must be refused");
        }
        let public = [
            "93.184.216.34",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "11.0.0.1",
            "2606:2800:220:1::",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ];
        for a in public {
            assert_eq!(refused_class(a.parse().unwrap()), None, "{a} is public");
        }
        assert_eq!(
            refused_class("10.0.0.1".parse().unwrap()),
            Some("private (10.0.0.0/8)")
        );
    }
}
