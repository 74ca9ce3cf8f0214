//! The address rule (docs/webhooks.md, "Where webhooks may send"), applied
//! twice: when a webhook is made or its URL changed (the literal address,
//! or what the name resolves to then), and by the delivery resolver just
//! before each connection, so the connection goes only to addresses that
//! were checked (a name re-pointed at a private address after creation is
//! caught: DNS rebinding). No PostgreSQL API here: the resolver runs on the
//! delivery threads.

use cot_engine::webhook::target::{refused_class, Host, Target};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Why a target is refused: the first refused address and its class.
pub fn refusal(host: &str, addrs: impl IntoIterator<Item = IpAddr>, allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    addrs
        .into_iter()
        .find_map(|ip| refused_class(ip).map(|class| format!("{host} resolves to {ip}, a {class} address")))
}

/// The check made when a webhook is made or its URL changes. A name that
/// does not resolve now is accepted: it is checked at every delivery.
pub fn check_target(t: &Target, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    match &t.host {
        Host::Addr(ip) => match refused_class(*ip) {
            Some(class) => Err(format!("{ip} is a {class} address")),
            None => Ok(()),
        },
        h @ Host::Name(name) if h.is_local_name() => Err(format!("{name} is this machine (loopback)")),
        Host::Name(name) => match (name.as_str(), t.port).to_socket_addrs() {
            Ok(addrs) => refusal(name, addrs.map(|a| a.ip()), false).map_or(Ok(()), Err),
            Err(_) => Ok(()),
        },
    }
}

/// The refusal carried through ureq's error, so the outcome says what
/// happened (and is not retried).
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}

impl std::error::Error for Refused {}

/// ureq's resolver with the address rule applied to what it returns: every
/// resolved address must pass, or the request is refused before connecting.
#[derive(Debug)]
pub struct GuardedResolver {
    inner: DefaultResolver,
    allow_private: bool,
}

impl GuardedResolver {
    /// A resolver applying the rule unless `allow_private`.
    pub fn new(allow_private: bool) -> Self {
        GuardedResolver {
            inner: DefaultResolver::default(),
            allow_private,
        }
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default().to_string();
        if !self.allow_private && Host::Name(host.clone()).is_local_name() {
            return Err(ureq::Error::Other(Box::new(Refused(format!(
                "{host} is this machine (loopback)"
            )))));
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
        match refusal(&host, ips, self.allow_private) {
            Some(why) => Err(ureq::Error::Other(Box::new(Refused(why)))),
            None => Ok(addrs),
        }
    }
}
