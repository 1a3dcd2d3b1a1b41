/**
 * The plan: a tree of named tests built before anything runs, so every plan line
 * ("1..N") is known up front and the KTAP can stream. A node is a group (children)
 * or a case (run); either may instead carry a skip reason.
 */

export interface PlanNode {
  /** Stable, unique among siblings, `[a-z0-9_-]` (dots separate ids). */
  readonly name: string;
  /** Dotted path from the root, e.g. `default_vm.flags-mmap.file_size`. */
  readonly id: string;
  /** When set, the node is reported SKIP with this reason and nothing in it runs. */
  readonly skip?: string;
  /** This host's side of a skip (`# ` lines before the result); the reason stays host-independent. */
  readonly skipDetails?: readonly string[];
  /** A group's subtests. */
  readonly children?: readonly PlanNode[];
  /** A case's body: returns normally to pass, throws to fail (SkipCase to skip). */
  readonly run?: () => void | Promise<void>;
  /** Runs after a group's children, pass or fail (closes what the group opened). */
  readonly teardown?: () => void;
}

export const NAME_RE = /^[a-z0-9_-]+$/;

export function childId(parentId: string, name: string): string {
  if (!NAME_RE.test(name)) throw new Error(`invalid test name '${name}'`);
  return parentId === '' ? name : `${parentId}.${name}`;
}

export function group(parentId: string, name: string, build: (id: string) => PlanNode[],
  teardown?: () => void): PlanNode {
  const id = childId(parentId, name);
  return teardown ? { name, id, children: build(id), teardown } : { name, id, children: build(id) };
}

export function leaf(parentId: string, name: string, run: () => void | Promise<void>): PlanNode {
  return { name, id: childId(parentId, name), run };
}

export function skipped(parentId: string, name: string, reason: string, details: readonly string[] = []): PlanNode {
  const node = { name, id: childId(parentId, name), skip: reason };
  return details.length > 0 ? { ...node, skipDetails: details } : node;
}

/** The number of cases (leaves) in a plan: a skipped node without children counts as one. */
export function countLeaves(nodes: readonly PlanNode[]): number {
  return nodes.reduce((n, x) => n + (x.children ? countLeaves(x.children) : 1), 0);
}

/** Every id in the tree, depth first (what --list prints). */
export function allIds(nodes: readonly PlanNode[], leavesOnly = false): string[] {
  const out: string[] = [];
  const walk = (n: PlanNode): void => {
    if (!leavesOnly || !n.children) out.push(n.id);
    n.children?.forEach(walk);
  };
  nodes.forEach(walk);
  return out;
}

/** Translates a shell-style glob (`*`, `?`, `[...]`) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    throw new GlobError(`'${glob}' is not a valid glob`);
  }
}

/** A glob that cannot be turned into a matcher (e.g. the range [z-a]). */
export class GlobError extends Error {}

/**
 * Keeps the nodes whose id matches one of the globs, with all that is under them, and
 * the groups on the way to them. Returns [] when nothing matches.
 */
export function filterPlan(nodes: readonly PlanNode[], globs: readonly string[]): PlanNode[] {
  if (globs.length === 0) return [...nodes];
  const res = globs.map(globToRegExp);
  const matches = (id: string): boolean => res.some((r) => r.test(id));
  const visit = (n: PlanNode): PlanNode | null => {
    if (matches(n.id)) return n;
    if (!n.children) return null;
    const kept = n.children.map(visit).filter((c): c is PlanNode => c !== null);
    return kept.length > 0 ? { ...n, children: kept } : null;
  };
  return nodes.map(visit).filter((n): n is PlanNode => n !== null);
}

/**
 * --repeat: each case n times in place, named `<case>-iterK` (K from 1), so ids stay
 * unique and say which iteration failed. Skipped nodes stay single.
 */
export function repeatPlan(nodes: readonly PlanNode[], n: number): PlanNode[] {
  if (n <= 1) return [...nodes];
  return nodes.flatMap((node): PlanNode[] => {
    if (node.children) return [{ ...node, children: repeatPlan(node.children, n) }];
    if (!node.run) return [node];
    return Array.from({ length: n }, (_, i) => ({ ...node, name: `${node.name}-iter${i + 1}`, id: `${node.id}-iter${i + 1}` }));
  });
}
