//! Which peers are trusted proxies, and who the client behind them is.
//!
//! `X-Forwarded-For` and `Forwarded` are believed only when the direct peer
//! is a trusted proxy; then the chain is read from the right, and the first
//! address that is not a trusted proxy is the client. Anyone can write the
//! left end of the chain, so nothing left of that address is believed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::Deserialize;

use super::ParseError;

/// An IPv4 or IPv6 network in CIDR notation; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(ip).into(), 32, self.prefix) == u32::from(net).into()
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(ip), 128, self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let mask = (u128::MAX >> (128 - u32::from(width))) & !((1u128 << (width - prefix)) - 1);
    bits & mask
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let refuse = || ParseError(format!("{text:?} is not an address or a CIDR network"));
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address = canonical(address.parse::<IpAddr>().map_err(|_| refuse())?);
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| refuse())?
            }
            Some(_) => return Err(refuse()),
            None => width,
        };
        if prefix > width {
            return Err(refuse());
        }
        let network = match address {
            IpAddr::V4(v4) => IpAddr::V4((masked(u32::from(v4).into(), 32, prefix) as u32).into()),
            IpAddr::V6(v6) => IpAddr::V6(masked(u128::from(v6), 128, prefix).into()),
        };
        Ok(Cidr { network, prefix })
    }
}

impl TryFrom<String> for Cidr {
    type Error = ParseError;

    fn try_from(text: String) -> Result<Self, ParseError> {
        text.parse()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose forwarding headers are believed (`server.trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(networks: Vec<Cidr>) -> Self {
        TrustedProxies(networks)
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client's address: the peer itself unless the peer is trusted;
    /// then the right-most untrusted address of the forwarding chain
    /// (`X-Forwarded-For` if given, else `Forwarded`, each header line in
    /// order). A chain of trusted proxies only gives its left-most one; an
    /// entry that is not an address (`unknown`, an obfuscated name) ends
    /// the walk at the last address believed.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl DoubleEndedIterator<Item = &'a str>,
        x_forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if self.0.is_empty() || !self.is_trusted(peer) {
            return peer;
        }
        // X-Forwarded-For first: nginx, Traefik and Envoy all append to it,
        // and many pass a client's own `Forwarded` through untouched, where
        // preferring it would let the client name any address.
        let mut x_forwarded_for = x_forwarded_for.peekable();
        let hops: Vec<&str> = if x_forwarded_for.peek().is_some() {
            x_forwarded_for.flat_map(|line| line.split(',')).collect()
        } else {
            forwarded.flat_map(forwarded_for_values).collect()
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.is_trusted(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// The `for=` values of one `Forwarded` header line (RFC 7239), in order.
fn forwarded_for_values(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').filter_map(|element| {
        element.split(';').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            name.trim().eq_ignore_ascii_case("for").then_some(value)
        })
    })
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `"[2001:db8::1]:4711"`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse().ok().map(canonical);
    }
    let (address, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|c| c.parse().unwrap()).collect())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn xff(proxies: &TrustedProxies, peer: &str, lines: &[&str]) -> IpAddr {
        proxies.client_ip(ip(peer), std::iter::empty(), lines.iter().copied())
    }

    #[test]
    fn networks_parse_and_contain_their_addresses() {
        let net: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(net.to_string(), "10.0.0.0/8");
        assert!(net.contains(ip("10.255.0.1")));
        assert!(net.contains(ip("::ffff:10.0.0.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        let single: Cidr = "127.0.0.1".parse().unwrap();
        assert_eq!(single.to_string(), "127.0.0.1/32");
        assert!(!single.contains(ip("127.0.0.2")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let everything: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("203.0.113.9")));
    }

    #[test]
    fn malformed_networks_are_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            xff(&trusted, "203.0.113.9", &["1.2.3.4"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            xff(&TrustedProxies::default(), "10.0.0.1", &["1.2.3.4"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client forged 6.6.6.6; the proxies appended the real address.
        let client = xff(&trusted, "10.0.0.2", &["6.6.6.6, 198.51.100.7", "10.0.0.1"]);
        assert_eq!(client, ip("198.51.100.7"));
        assert_eq!(xff(&trusted, "10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(
            xff(&trusted, "10.0.0.2", &["10.0.0.9, 10.0.0.8"]),
            ip("10.0.0.9")
        );
        assert_eq!(
            xff(&trusted, "10.0.0.2", &["1.2.3.4, garbage"]),
            ip("10.0.0.2")
        );
        assert_eq!(
            xff(&trusted, "10.0.0.2", &["198.51.100.7:5000"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn x_forwarded_for_is_read_before_forwarded_which_serves_alone() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let forwarded = [
            r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#,
            "for=10.0.0.1",
        ];
        // A client's own `Forwarded`, passed through by a proxy that
        // appends to X-Forwarded-For, names nobody.
        let client = trusted.client_ip(
            ip("10.0.0.2"),
            forwarded.iter().copied(),
            ["1.1.1.1"].iter().copied(),
        );
        assert_eq!(client, ip("1.1.1.1"));
        let client = trusted.client_ip(
            ip("10.0.0.2"),
            forwarded.iter().copied(),
            std::iter::empty(),
        );
        assert_eq!(client, ip("2001:db8::7"));
        let hidden = trusted.client_ip(
            ip("10.0.0.2"),
            ["for=_hidden, for=10.0.0.1"].iter().copied(),
            std::iter::empty(),
        );
        assert_eq!(hidden, ip("10.0.0.1"));
    }
}
