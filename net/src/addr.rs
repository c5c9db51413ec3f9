//! Turning what users pass to `bind` and `connect` into socket addresses, without blocking the
//! runtime: literal addresses are parsed in place; host names are looked up on the blocking pool.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something that names one or more socket addresses: a `SocketAddr`, an `(ip, port)` pair, a
/// `"host:port"` string or a `(host, port)` pair, or a slice of addresses.
///
/// Unlike `std::net::ToSocketAddrs`, resolving a host name never blocks the runtime: the lookup
/// runs on the runtime's blocking pool (`spawn_blocking`). This trait is sealed; the implementations below are all there is.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// What resolving an address needs: either the addresses, or a name to look up.
    pub enum Resolved {
        Addrs(io::Result<Vec<SocketAddr>>),
        Lookup { host: String, port: u16 },
    }

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        fn resolve(&self) -> Resolved;
    }
}

use sealed::{Resolved, ToSocketAddrsPriv};

macro_rules! literal_addrs {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn resolve(&self) -> Resolved {
                Resolved::Addrs(Ok(vec![SocketAddr::from(*self)]))
            }
        }
    )*};
}

literal_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn resolve(&self) -> Resolved {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Resolved::Addrs(Ok(vec![addr]));
        }
        let Some((host, port)) = self.rsplit_once(':') else {
            return invalid(format!("invalid socket address {self:?}: expected \"host:port\""));
        };
        match port.parse::<u16>() {
            Ok(port) => (host, port).resolve(),
            Err(_) => invalid(format!("invalid port {port:?} in socket address {self:?}")),
        }
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn resolve(&self) -> Resolved {
        let (host, port) = *self;
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Resolved::Addrs(Ok(vec![SocketAddr::new(ip, port)]));
        }
        if host.is_empty() {
            return invalid(format!("invalid socket address \":{port}\": the host is empty"));
        }
        Resolved::Lookup {
            host: host.to_string(),
            port,
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn resolve(&self) -> Resolved {
        (self.0.as_str(), self.1).resolve()
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn resolve(&self) -> Resolved {
        self.as_str().resolve()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn resolve(&self) -> Resolved {
        Resolved::Addrs(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn resolve(&self) -> Resolved {
        (**self).resolve()
    }
}

fn invalid(message: String) -> Resolved {
    Resolved::Addrs(Err(io::Error::new(io::ErrorKind::InvalidInput, message)))
}

/// Resolves `addr` to its socket addresses; host names are looked up without blocking the
/// runtime.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let addrs: Vec<_> = mini_net::lookup_host("127.0.0.1:80").await.unwrap().collect();
///     assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// });
/// ```
pub async fn lookup_host(addr: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&addr).await?.into_iter())
}

pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    match addr.resolve() {
        Resolved::Addrs(addrs) => addrs,
        Resolved::Lookup { host, port } => lookup_on_thread(host, port).await,
    }
}

/// Runs the blocking `getaddrinfo` on the runtime's blocking pool and waits for its answer.
async fn lookup_on_thread(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
    let lookup = mini_runtime::task::spawn_blocking(move || {
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).map(Iterator::collect)
    });
    lookup.await?
}

/// Tries `op` on each address in turn; returns the first success or the last error.
pub(crate) async fn each_addr<T, F, Fut>(addr: &(impl ToSocketAddrs + ?Sized), mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(addr).await? {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the address resolved to no socket address")))
}
