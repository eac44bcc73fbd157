//! Which `X-Forwarded-For` hop is the client: the trusted-proxy rule.
//!
//! Anyone can write `X-Forwarded-For`, so its left-most address is whatever the client
//! chose. Behind proxies you run, the common guidance (MDN's `X-Forwarded-For` page, the
//! reverse proxies' docs) is to believe the header only when the connection comes from a
//! trusted proxy, and then to walk it from the right, skipping the addresses of trusted
//! proxies: the right-most address that is *not* a trusted proxy is the client (every
//! address to its left was written by a party you do not control).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::HeaderValue;

/// A network of trusted proxies: an address and a prefix length, parsed from CIDR
/// notation (`10.0.0.0/8`, `fd00::/8`) or a bare address (one host).
///
/// ```
/// use gochan_http::ProxyNet;
/// let net: ProxyNet = "10.0.0.0/8".parse().unwrap();
/// assert!(net.contains("10.1.2.3".parse().unwrap()));
/// assert!(!net.contains("11.0.0.1".parse().unwrap()));
/// assert!("::1".parse::<ProxyNet>().unwrap().contains("::1".parse().unwrap()));
/// assert!("10.0.0.0/33".parse::<ProxyNet>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    /// The network of `addr` with `prefix` leading bits (at most 32 for IPv4, 128 for
    /// IPv6).
    ///
    /// ```
    /// let net = gochan_http::ProxyNet::new("192.168.0.0".parse().unwrap(), 16).unwrap();
    /// assert!(net.contains("192.168.7.7".parse().unwrap()));
    /// ```
    pub fn new(addr: IpAddr, prefix: u8) -> Result<ProxyNet, ProxyNetError> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(ProxyNetError(format!(
                "prefix /{prefix} is longer than {max} bits"
            )));
        }
        Ok(ProxyNet { addr, prefix })
    }

    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    ///
    /// ```
    /// let net: gochan_http::ProxyNet = "127.0.0.0/8".parse().unwrap();
    /// assert!(net.contains("::ffff:127.0.0.1".parse().unwrap()));
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it stands for.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether the first `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    if a[..full] != b[..full] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

impl FromStr for ProxyNet {
    type Err = ProxyNetError;

    fn from_str(s: &str) -> Result<ProxyNet, ProxyNetError> {
        let bad = |why: &str| ProxyNetError(format!("{s:?}: {why}"));
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad("not an IP address"))?;
        let addr = canonical(addr);
        let prefix = match prefix {
            Some(p) => p.trim().parse().map_err(|_| bad("bad prefix length"))?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        ProxyNet::new(addr, prefix).map_err(|e| bad(&e.0))
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A trusted-proxy network that could not be parsed.
///
/// ```
/// let err = "nonsense".parse::<gochan_http::ProxyNet>().unwrap_err();
/// assert!(err.to_string().contains("not an IP address"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyNetError(String);

impl fmt::Display for ProxyNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid proxy network {}", self.0)
    }
}

impl std::error::Error for ProxyNetError {}

/// How [`ContextLayer`](crate::ContextLayer) reads `X-Forwarded-For`; built from a
/// `bool` or a list of [`ProxyNet`]s by `trust_forwarded_for`.
///
/// ```
/// use gochan_http::{ContextLayer, ProxyNet};
/// let nets: Vec<ProxyNet> = vec!["10.0.0.0/8".parse().unwrap()];
/// let _layer = ContextLayer::new().trust_forwarded_for(nets);
/// let _legacy = ContextLayer::new().trust_forwarded_for(true); // first hop, any peer
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ForwardedTrust {
    /// Ignore the header: the client is the connection's peer (the default).
    #[default]
    Ignore,
    /// Believe the header from any peer and take its first (left-most) hop: only for a
    /// server that every request reaches through your own proxy.
    FirstHop,
    /// Believe the header only from a peer in these networks, and take the right-most
    /// hop that is not in them.
    Proxies(Vec<ProxyNet>),
}

impl From<bool> for ForwardedTrust {
    fn from(trust: bool) -> Self {
        if trust {
            ForwardedTrust::FirstHop
        } else {
            ForwardedTrust::Ignore
        }
    }
}

impl From<Vec<ProxyNet>> for ForwardedTrust {
    fn from(nets: Vec<ProxyNet>) -> Self {
        ForwardedTrust::Proxies(nets)
    }
}

impl<const N: usize> From<[ProxyNet; N]> for ForwardedTrust {
    fn from(nets: [ProxyNet; N]) -> Self {
        ForwardedTrust::Proxies(nets.to_vec())
    }
}

impl From<&[ProxyNet]> for ForwardedTrust {
    fn from(nets: &[ProxyNet]) -> Self {
        ForwardedTrust::Proxies(nets.to_vec())
    }
}

impl ForwardedTrust {
    /// The client's address from the connection's `peer` and every `X-Forwarded-For`
    /// header value (in order); `None` if the header is not believed, absent or
    /// malformed (the caller then uses the peer).
    pub(crate) fn client<'a>(
        &self,
        peer: Option<IpAddr>,
        headers: impl Iterator<Item = &'a HeaderValue>,
    ) -> Option<IpAddr> {
        match self {
            ForwardedTrust::Ignore => None,
            ForwardedTrust::FirstHop => hops(headers)?.into_iter().next(),
            ForwardedTrust::Proxies(nets) => {
                let trusted = |ip: IpAddr| nets.iter().any(|n| n.contains(ip));
                if !trusted(peer?) {
                    return None;
                }
                let hops = hops(headers)?;
                hops.iter()
                    .rev()
                    .find(|&&ip| !trusted(ip))
                    .or_else(|| hops.first())
                    .copied()
            }
        }
    }
}

/// Every hop of the `X-Forwarded-For` values, left to right; `None` if there is none or
/// one is not an IP address (a malformed header is not believed at all).
fn hops<'a>(headers: impl Iterator<Item = &'a HeaderValue>) -> Option<Vec<IpAddr>> {
    let mut out = Vec::new();
    for v in headers {
        for hop in v.to_str().ok()?.split(',') {
            out.push(canonical(hop.trim().parse().ok()?));
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(trust: &ForwardedTrust, peer: &str, xff: &[&str]) -> Option<IpAddr> {
        let values: Vec<HeaderValue> = xff
            .iter()
            .map(|s| HeaderValue::from_str(s).unwrap())
            .collect();
        trust.client(Some(ip(peer)), values.iter())
    }

    #[test]
    fn right_most_untrusted_hop_is_the_client() {
        let t = ForwardedTrust::from(vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.1".parse().unwrap(),
        ]);
        // client, spoofed hop, then two of our proxies.
        let xff = ["6.6.6.6, 203.0.113.9, 10.1.1.1", "192.0.2.1"];
        assert_eq!(client(&t, "10.0.0.5", &xff), Some(ip("203.0.113.9")));
        // Split over several header lines the same way.
        assert_eq!(
            client(&t, "10.0.0.5", &["6.6.6.6", "203.0.113.9", "10.1.1.1"]),
            Some(ip("203.0.113.9"))
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            client(&t, "10.0.0.5", &["10.9.9.9, 10.1.1.1"]),
            Some(ip("10.9.9.9"))
        );
    }

    #[test]
    fn header_from_an_untrusted_peer_or_malformed_is_ignored() {
        let t = ForwardedTrust::from(["10.0.0.0/8".parse::<ProxyNet>().unwrap()]);
        assert_eq!(client(&t, "203.0.113.7", &["1.2.3.4"]), None);
        assert_eq!(client(&t, "10.0.0.5", &["1.2.3.4, nonsense"]), None);
        assert_eq!(client(&t, "10.0.0.5", &[]), None);
        assert_eq!(
            client(&ForwardedTrust::Ignore, "10.0.0.5", &["1.2.3.4"]),
            None
        );
        assert_eq!(
            client(
                &ForwardedTrust::FirstHop,
                "203.0.113.7",
                &["1.2.3.4, 10.0.0.1"]
            ),
            Some(ip("1.2.3.4"))
        );
    }

    #[test]
    fn networks_match_by_prefix() {
        let n: ProxyNet = "172.16.0.0/12".parse().unwrap();
        assert!(n.contains(ip("172.31.255.255")));
        assert!(!n.contains(ip("172.32.0.0")));
        assert!(!n.contains(ip("::1")));
        let v6: ProxyNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0"
            .parse::<ProxyNet>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        for bad in ["", "10.0.0.0/", "10.0.0.0/x", "::/129", "1.2.3/8"] {
            assert!(bad.parse::<ProxyNet>().is_err(), "{bad:?}");
        }
    }
}
