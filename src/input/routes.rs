//! The route of every migration, fixed when the scenario is read so that a run with thousands of
//! migrations does not search the network once per migration.
//!
//! A route takes the fewest hops, exactly as `model::network::route` would find it (a breadth-first
//! search that tries links in the order they were written), but searched once per source host over
//! adjacency lists instead of over every link at every step. Between two servers of a `[topology]`
//! fat-tree, the route follows the fat-tree's D-mod-k rule instead (`topology::FatTree::path`). A
//! migration's `via` names the nodes its route must pass.

use crate::input::topology::FatTree;
use crate::model::scenario::Link;
use std::collections::HashMap;

/// A host's parent in a tree of links and the link to it (None at a root).
type Up = Option<(u32, u32)>;

pub struct Router {
    /// Per host: (neighbour, link) in link order.
    adj: Vec<Vec<(usize, usize)>>,
    /// When the links form a forest (no cycle, no two links between the same hosts, as in a
    /// two-tier data center): per host, its parent and the link to it (None at a root) and its
    /// depth. Between two hosts of a tree there is one simple path, so it is the fewest-hop route
    /// too, read off by climbing to the common ancestor, without a search per source.
    tree: Option<(Vec<Up>, Vec<u32>)>,
    /// The first link (in order) between two hosts, either way round.
    between: HashMap<(usize, usize), usize>,
    fat_tree: Option<FatTree>,
}

impl Router {
    pub fn new(hosts: usize, links: &[Link], fat_tree: Option<FatTree>) -> Self {
        let mut adj = vec![Vec::new(); hosts];
        let mut between = HashMap::new();
        for (i, l) in links.iter().enumerate() {
            adj[l.a].push((l.b, i));
            adj[l.b].push((l.a, i));
            between.entry((l.a.min(l.b), l.a.max(l.b))).or_insert(i);
        }
        let tree = forest(&adj, links.len());
        Router { adj, between, fat_tree, tree }
    }

    /// The link joining `a` and `b` directly (the first written), if any.
    pub fn link(&self, a: usize, b: usize) -> Option<usize> {
        self.between.get(&(a.min(b), a.max(b))).copied()
    }

    /// The links along `nodes` (each consecutive pair joined by a link), or the first pair that is not.
    pub fn along(&self, nodes: &[usize]) -> Result<Vec<usize>, (usize, usize)> {
        nodes.windows(2).map(|w| self.link(w[0], w[1]).ok_or((w[0], w[1]))).collect()
    }

    /// The route of each (from, to) pair: the fat-tree's between two of its servers, else the fewest
    /// hops (None when no chain of links joins them).
    pub fn routes(&self, pairs: &[(usize, usize)]) -> Vec<Option<Vec<usize>>> {
        let mut out = vec![None; pairs.len()];
        let mut by_source: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, &(from, to)) in pairs.iter().enumerate() {
            match self.fat_tree.and_then(|ft| ft.path(from, to)) {
                Some(nodes) => out[i] = Some(self.along(&nodes).expect("a fat-tree path follows its links")),
                None => by_source.entry(from).or_default().push(i),
            }
        }
        if let Some((up, depth)) = &self.tree {
            for (_, is) in by_source {
                for i in is {
                    out[i] = tree_path(up, depth, pairs[i].0, pairs[i].1);
                }
            }
            return out;
        }
        let mut sources: Vec<usize> = by_source.keys().copied().collect();
        sources.sort_unstable();
        for s in sources {
            let targets: Vec<usize> = by_source[&s].iter().map(|&i| pairs[i].1).collect();
            let prev = self.search(s, &targets);
            for &i in &by_source[&s] {
                out[i] = walk_back(&prev, s, pairs[i].1);
            }
        }
        out
    }

    /// The fewest-hop route alone (for `migsim check`, to tell a fixed route from the default one).
    pub fn shortest(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        if let Some((up, depth)) = &self.tree {
            return tree_path(up, depth, from, to);
        }
        walk_back(&self.search(from, &[to]), from, to)
    }

    /// Breadth-first search from `from`: per host, the host and link it was reached by. Hosts are
    /// taken from the queue in order and their links tried in link order, as `network::route` does,
    /// so the tree (and every route read off it) is the same. It stops once every host in `targets`
    /// is reached: a host's entry is fixed when it is first reached, so the routes to them are those
    /// of the whole search, and a drain of a few racks in a data center of thousands does not walk
    /// every host once per source.
    fn search(&self, from: usize, targets: &[usize]) -> Vec<Option<(u32, u32)>> {
        let mut prev: Vec<Option<(u32, u32)>> = vec![None; self.adj.len()];
        let mut seen = vec![false; self.adj.len()];
        let mut wanted = vec![false; self.adj.len()];
        let mut left = 0usize;
        for &t in targets {
            if t != from && !wanted[t] {
                wanted[t] = true;
                left += 1;
            }
        }
        seen[from] = true;
        let mut q = std::collections::VecDeque::from([from]);
        while let Some(h) = q.pop_front() {
            if left == 0 {
                break;
            }
            for &(other, li) in &self.adj[h] {
                if !seen[other] {
                    seen[other] = true;
                    prev[other] = Some((h as u32, li as u32));
                    q.push_back(other);
                    if wanted[other] {
                        left -= 1;
                    }
                }
            }
        }
        prev
    }
}

/// Parents and depths when the links form a forest, each tree rooted at its lowest-numbered host.
fn forest(adj: &[Vec<(usize, usize)>], links: usize) -> Option<(Vec<Up>, Vec<u32>)> {
    let n = adj.len();
    if links >= n || u32::try_from(n).is_err() {
        return None; // a forest has fewer links than hosts
    }
    let mut up: Vec<Up> = vec![None; n];
    let mut depth = vec![u32::MAX; n];
    let mut q = std::collections::VecDeque::new();
    for root in 0..n {
        if depth[root] != u32::MAX {
            continue;
        }
        depth[root] = 0;
        q.push_back(root);
        while let Some(h) = q.pop_front() {
            for &(o, li) in &adj[h] {
                if up[h].is_some_and(|(_, pl)| pl as usize == li) {
                    continue; // the link back to the parent
                }
                if depth[o] != u32::MAX {
                    return None; // a cycle (or a second link between two hosts)
                }
                depth[o] = depth[h] + 1;
                up[o] = Some((h as u32, li as u32));
                q.push_back(o);
            }
        }
    }
    Some((up, depth))
}

/// The one path from `a` to `b` in a forest: up from both to their common ancestor.
fn tree_path(up: &[Up], depth: &[u32], a: usize, b: usize) -> Option<Vec<usize>> {
    let (mut x, mut y) = (a, b);
    let (mut head, mut tail) = (Vec::new(), Vec::new());
    while depth[x] > depth[y] {
        let (p, l) = up[x]?;
        head.push(l as usize);
        x = p as usize;
    }
    while depth[y] > depth[x] {
        let (p, l) = up[y]?;
        tail.push(l as usize);
        y = p as usize;
    }
    while x != y {
        let ((px, lx), (py, ly)) = (up[x]?, up[y]?);
        head.push(lx as usize);
        tail.push(ly as usize);
        (x, y) = (px as usize, py as usize);
    }
    head.extend(tail.into_iter().rev());
    Some(head)
}

fn walk_back(prev: &[Option<(u32, u32)>], from: usize, to: usize) -> Option<Vec<usize>> {
    if from == to {
        return Some(Vec::new());
    }
    let mut path = Vec::new();
    let mut cur = to;
    while cur != from {
        let (p, li) = prev[cur]?;
        path.push(li as usize);
        cur = p as usize;
    }
    path.reverse();
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::route;

    fn link(a: usize, b: usize) -> Link {
        Link { a, b, bandwidth_bps: 1.0, latency_ns: 1 }
    }

    #[test]
    fn the_same_routes_as_the_network_finds() {
        // A mesh with several equal-length routes: the tie-break must match.
        let links = vec![link(0, 1), link(1, 2), link(0, 3), link(3, 2), link(2, 4), link(1, 4), link(5, 6), link(3, 4)];
        let r = Router::new(7, &links, None);
        let pairs: Vec<(usize, usize)> = (0..7).flat_map(|a| (0..7).map(move |b| (a, b))).collect();
        let got = r.routes(&pairs);
        for (i, &(a, b)) in pairs.iter().enumerate() {
            assert_eq!(got[i], route(&links, 7, a, b), "{a} -> {b}");
            assert_eq!(r.shortest(a, b), route(&links, 7, a, b));
        }
        assert_eq!(r.along(&[0, 1, 4]), Ok(vec![0, 5]));
        assert!(r.tree.is_none(), "a mesh is not a forest");
        assert_eq!(r.along(&[0, 4]), Err((0, 4)));
    }

    #[test]
    fn a_forest_gives_the_routes_a_search_finds() {
        // Two trees (a two-tier rack pair under a core, and a pair apart), links in scrambled order.
        let links = vec![link(7, 1), link(0, 1), link(2, 0), link(3, 1), link(0, 4), link(5, 2), link(6, 2), link(8, 9)];
        let r = Router::new(10, &links, None);
        assert!(r.tree.is_some());
        let pairs: Vec<(usize, usize)> = (0..10).flat_map(|a| (0..10).map(move |b| (a, b))).collect();
        let got = r.routes(&pairs);
        for (i, &(a, b)) in pairs.iter().enumerate() {
            assert_eq!(got[i], route(&links, 10, a, b), "{a} -> {b}");
            assert_eq!(r.shortest(a, b), route(&links, 10, a, b));
        }
        // A second link between two hosts makes a cycle: the search is used.
        let mut twice = links.clone();
        twice.push(link(1, 0));
        assert!(Router::new(10, &twice, None).tree.is_none());
    }
}
