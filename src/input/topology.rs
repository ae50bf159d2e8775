//! `[topology]`: a datacenter network described by its shape instead of link by link. It expands
//! into ordinary hosts, switches and links (the model sees nothing else), before the scenario's own
//! `[[hosts]]` and `[[links]]`, which may add to it.
//!
//! - `kind = "two-tier"`: `racks` top-of-rack switches under one core switch, `hosts_per_rack` hosts
//!   under each. Hosts `rack1-h1` ... in rack `rack1`, switches `rack1-tor` and `core`. The uplink is
//!   given, or follows from an oversubscription ratio (the rack's host bandwidth over its uplink).
//! - `kind = "fat-tree"`: Al-Fares et al.'s k-ary fat-tree (SIGCOMM 2008): k pods of k/2 edge and k/2
//!   aggregation switches, (k/2)^2 core switches, k/2 hosts under each edge switch (k^3/4 hosts).
//!   Hosts `pod1-rack1-h1` ... (rack `pod1-rack1`, under switch `pod1-edge1`), `pod1-agg1`, `core1`.
//!   Its many equal-cost paths are spread with D-mod-k routing (`FatTree::path`).

use crate::input::tree::{ConfigError, TableReader, choice};
use crate::model::scenario::{Host, Link};

/// The hosts and links a `[topology]` expands into, and the fat-tree's routing when it is one.
pub struct Generated {
    pub hosts: Vec<Host>,
    pub links: Vec<Link>,
    pub fat_tree: Option<FatTree>,
}

/// Where a k-ary fat-tree's nodes lie among the hosts: servers from `servers`, then edge switches
/// (pod by pod), aggregation switches (pod by pod), core switches.
#[derive(Debug, Clone, Copy)]
pub struct FatTree {
    pub k: usize,
    pub servers: usize,
}

impl FatTree {
    fn half(&self) -> usize {
        self.k / 2
    }
    fn edge(&self, pod: usize, e: usize) -> usize {
        self.servers + self.k * self.half() * self.half() + pod * self.half() + e
    }
    fn agg(&self, pod: usize, a: usize) -> usize {
        self.edge(0, 0) + self.k * self.half() + pod * self.half() + a
    }
    fn core(&self, c: usize) -> usize {
        self.agg(0, 0) + self.k * self.half() + c
    }

    /// The nodes from server `s` to server `d` (host indices), or None when either is not one of the
    /// fat-tree's servers. D-mod-k routing: the way up is chosen by the destination's number, so
    /// that the flows towards different hosts spread over the aggregation and core switches
    /// (Zahavi, "D-Mod-K Routing Providing Non-Blocking Traffic for Shift Permutations on Real Life
    /// Fat Trees", 2010; Al-Fares et al. spread by the host's number the same way).
    pub fn path(&self, s: usize, d: usize) -> Option<Vec<usize>> {
        let h = self.half();
        let n = self.k * h * h;
        let (s, d) = (s.checked_sub(self.servers)?, d.checked_sub(self.servers)?);
        if s >= n || d >= n || s == d {
            return None;
        }
        let at = |x: usize| (x / (h * h), (x / h) % h);
        let ((sp, se), (dp, de)) = (at(s), at(d));
        let (s_node, d_node) = (s + self.servers, d + self.servers);
        let a = d % h;
        let mut p = vec![s_node, self.edge(sp, se)];
        if (sp, se) != (dp, de) {
            p.push(self.agg(sp, a));
            if sp != dp {
                p.push(self.core(a * h + (d / h) % h));
                p.push(self.agg(dp, a));
            }
            p.push(self.edge(dp, de));
        }
        p.push(d_node);
        Some(p)
    }
}

const KINDS: [(&str, bool); 2] = [("two-tier", false), ("fat-tree", true)];

/// The most hosts a topology may generate.
const MAX_HOSTS: u64 = 1_000_000;

/// Expand `[topology]`; `latency` is the default latency of each link.
pub fn read(t: &mut TableReader<'_>, default_latency_ns: u64) -> Result<Generated, ConfigError> {
    let kind = match t.string("kind")? {
        Some(k) => k,
        None => return Err(t.error("kind", "missing; give kind = \"two-tier\" or kind = \"fat-tree\"")),
    };
    let fat = choice(t, "kind", &kind, &KINDS)?;
    let host_link = t.positive_rate("host_link")?.ok_or_else(|| t.error("host_link", "missing; e.g. host_link = \"10 Gbit/s\""))?;
    let latency_ns = t.duration("latency")?.unwrap_or(default_latency_ns);
    let memory_bytes = t.size("host_memory")?;
    let only = |t: &mut TableReader<'_>, keys: &[&'static str], which: &str| -> Result<(), ConfigError> {
        for &k in keys {
            if t.has(k) {
                return Err(t.error(k, format!("applies to kind = \"{which}\" (this topology is \"{kind}\")")));
            }
        }
        Ok(())
    };
    let positive = |t: &mut TableReader<'_>, key: &'static str| -> Result<Option<u64>, ConfigError> {
        match t.uint(key)? {
            Some(0) => Err(t.error(key, "must be at least 1")),
            other => Ok(other),
        }
    };
    let server = |name: String, rack: String| Host { name, rack: Some(rack), memory_bytes, switch: false };
    let switch = |name: String| Host { name, switch: true, ..Host::default() };
    let link = |a: usize, b: usize, bandwidth_bps: f64| Link { a, b, bandwidth_bps, latency_ns };
    if !fat {
        only(t, &["k", "link"], "fat-tree")?;
        let racks = positive(t, "racks")?.ok_or_else(|| t.error("racks", "missing; e.g. racks = 2"))?;
        let per = positive(t, "hosts_per_rack")?.ok_or_else(|| t.error("hosts_per_rack", "missing; e.g. hosts_per_rack = 20"))?;
        if racks.saturating_mul(per) > MAX_HOSTS {
            return Err(t.error("racks", format!("racks x hosts_per_rack is over {MAX_HOSTS} hosts")));
        }
        let over = t.float("oversubscription")?;
        let uplink = match (t.positive_rate("uplink")?, over) {
            (Some(_), Some(_)) => return Err(t.error("oversubscription", "give either uplink or oversubscription, not both")),
            (Some(u), None) => u,
            (None, Some(r)) if r > 0.0 => per as f64 * host_link / r,
            (None, Some(r)) => return Err(t.error("oversubscription", format!("{r} must be greater than zero, e.g. 4 (4:1)"))),
            (None, None) => per as f64 * host_link,
        };
        let (racks, per) = (racks as usize, per as usize);
        let mut hosts = Vec::with_capacity(racks * per + racks + 1);
        for r in 1..=racks {
            for i in 1..=per {
                hosts.push(server(format!("rack{r}-h{i}"), format!("rack{r}")));
            }
        }
        let tor0 = hosts.len();
        hosts.extend((1..=racks).map(|r| switch(format!("rack{r}-tor"))));
        let core = hosts.len();
        hosts.push(switch("core".into()));
        let mut links: Vec<Link> = (0..racks * per).map(|h| link(h, tor0 + h / per, host_link)).collect();
        links.extend((0..racks).map(|r| link(tor0 + r, core, uplink)));
        return Ok(Generated { hosts, links, fat_tree: None });
    }
    only(t, &["racks", "hosts_per_rack", "uplink", "oversubscription"], "two-tier")?;
    let k = t.uint("k")?.ok_or_else(|| t.error("k", "missing; the switches' port count, e.g. k = 4 (16 hosts)"))?;
    if k < 2 || !k.is_multiple_of(2) {
        return Err(t.error("k", format!("{k} is not an even number of ports of at least 2, e.g. k = 4")));
    }
    if k.saturating_pow(3) / 4 > MAX_HOSTS {
        return Err(t.error("k", format!("k = {k} makes k^3/4 = {} hosts, over {MAX_HOSTS}", k.saturating_pow(3) / 4)));
    }
    let inner = t.positive_rate("link")?.unwrap_or(host_link);
    let k = k as usize;
    let h = k / 2;
    let ft = FatTree { k, servers: 0 };
    let mut hosts = Vec::new();
    for p in 1..=k {
        for e in 1..=h {
            for i in 1..=h {
                hosts.push(server(format!("pod{p}-rack{e}-h{i}"), format!("pod{p}-rack{e}")));
            }
        }
    }
    for p in 1..=k {
        hosts.extend((1..=h).map(|e| switch(format!("pod{p}-edge{e}"))));
    }
    for p in 1..=k {
        hosts.extend((1..=h).map(|a| switch(format!("pod{p}-agg{a}"))));
    }
    hosts.extend((1..=h * h).map(|c| switch(format!("core{c}"))));
    let mut links = Vec::new();
    for s in 0..k * h * h {
        links.push(link(s, ft.edge(s / (h * h), (s / h) % h), host_link));
    }
    for p in 0..k {
        for e in 0..h {
            for a in 0..h {
                links.push(link(ft.edge(p, e), ft.agg(p, a), inner));
            }
        }
    }
    for p in 0..k {
        for a in 0..h {
            for j in 0..h {
                links.push(link(ft.agg(p, a), ft.core(a * h + j), inner));
            }
        }
    }
    Ok(Generated { hosts, links, fat_tree: Some(ft) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(text: &str) -> Generated {
        let root = crate::input::tree::parse("t.toml", text).unwrap();
        let mut top = TableReader::root("t.toml", &root).unwrap();
        let mut t = top.table("topology").unwrap().unwrap();
        let g = read(&mut t, 100_000).unwrap();
        t.finish().unwrap();
        g
    }

    #[test]
    fn two_tier_has_racks_of_hosts_under_one_core_with_the_oversubscribed_uplink() {
        let g = generate("[topology]\nkind = \"two-tier\"\nracks = 2\nhosts_per_rack = 3\nhost_link = \"10 Gbit/s\"\noversubscription = 3");
        let servers: Vec<&str> = g.hosts.iter().filter(|h| !h.switch).map(|h| h.name.as_str()).collect();
        assert_eq!(servers, ["rack1-h1", "rack1-h2", "rack1-h3", "rack2-h1", "rack2-h2", "rack2-h3"]);
        assert_eq!(g.hosts.len(), 6 + 2 + 1);
        assert_eq!(g.links.len(), 6 + 2);
        // 3 hosts x 10 Gbit/s over 3: one 10 Gbit/s uplink per rack.
        assert_eq!(g.links[6].bandwidth_bps, 1.25e9);
        assert_eq!((g.hosts[g.links[7].a].name.as_str(), g.hosts[g.links[7].b].name.as_str()), ("rack2-tor", "core"));
    }

    #[test]
    fn fat_tree_has_k_cubed_over_four_hosts_and_spreads_paths_by_destination() {
        let g = generate("[topology]\nkind = \"fat-tree\"\nk = 4\nhost_link = \"10 Gbit/s\"");
        let ft = g.fat_tree.unwrap();
        assert_eq!(g.hosts.iter().filter(|h| !h.switch).count(), 16);
        assert_eq!(g.hosts.iter().filter(|h| h.switch).count(), 8 + 8 + 4);
        // 16 host links, 4 pods x 2 x 2 edge-agg, 4 pods x 2 x 2 agg-core.
        assert_eq!(g.links.len(), 16 + 16 + 16);
        let joined = |a: usize, b: usize| g.links.iter().any(|l| (l.a, l.b) == (a, b) || (l.a, l.b) == (b, a));
        let name = |i: usize| g.hosts[i].name.as_str();
        for s in 0..16 {
            for d in 0..16 {
                if s == d {
                    continue;
                }
                let p = ft.path(s, d).unwrap();
                assert!(p.windows(2).all(|w| joined(w[0], w[1])), "{:?}", p.iter().map(|&i| name(i)).collect::<Vec<_>>());
                let hops = if s / 2 == d / 2 {
                    2
                } else if s / 4 == d / 4 {
                    4
                } else {
                    6
                };
                assert_eq!(p.len() - 1, hops);
            }
        }
        // From one host to the four hosts of another pod: four different core switches.
        let cores: std::collections::BTreeSet<&str> = (4..8).map(|d| name(ft.path(0, d).unwrap()[3])).collect();
        assert_eq!(cores.len(), 4, "{cores:?}");
    }
}
