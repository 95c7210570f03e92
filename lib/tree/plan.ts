/**
 * What a vmcp or vmfork will make: one job per new VM, in an order where a
 * VM's new parent comes before it. A source VM gives one job; `-R` adds its
 * children (below the new VM); `-r` takes every VM below a source
 * directory, keeping their relative paths — and, except for forks, a VM
 * whose parent is copied too becomes the child of that copy.
 * @module
 */
import { VmError } from "../errors.ts";
import { isVmHome, VmHome } from "../home/home.ts";
import { samePlace } from "../home/links.ts";
import type { CloneMode } from "../modules/api.ts";
import { basename, relative, resolve } from "../path.ts";
import type { Settings } from "../settings/settings.ts";
import { homesBelowDir } from "./scan.ts";

/** One VM to make. */
export interface Job {
  /** The VM copied. */
  source: VmHome;
  /** The new VM's home (absolute). */
  dest: string;
  /** How it relates to its source. */
  mode: CloneMode;
  /** The job making its new parent (a copy of the source's parent), when there is one. */
  parentJob?: Job;
}

/** What to copy from where to where. */
export interface PlanRequest {
  /** `-f`, `-c` or `-a`, for each source; a VM copied along with its parent becomes a `copy` under it. */
  mode: CloneMode;
  /** `-R`: the sources' children too, each below its new parent. */
  withChildren: boolean;
  /** `-r`: every VM below each source directory. */
  recursive: boolean;
  /** `cfg_limit_nesting`: how deep a tree may go. */
  limit: number;
}

/**
 * The jobs for one source (a VM home, or with `-r` a directory) copied to
 * `dest`. The first job's destination is the one a change claims.
 */
export function planJobs(source: string, dest: string, req: PlanRequest, tool: Settings): Job[] {
  const roots = req.recursive ? homesBelow(source, tool, req.limit) : [VmHome.open(source, tool)];
  if (roots.length === 0) throw new VmError(`${source}: no VM home below it`);
  const jobs: Job[] = [];
  const bySource = new Map<string, Job>();
  const add = (job: Job) => {
    if (bySource.has(job.source.path)) return;
    if (job.dest === job.source.path) throw new VmError(`${job.dest}: a VM cannot be copied onto itself`);
    bySource.set(job.source.path, job);
    jobs.push(job);
  };
  const base = resolve(source);
  for (const home of roots) {
    const parentPath = home.parent();
    const parentJob = req.mode === "fork" || parentPath === undefined ? undefined : bySource.get(parentPath);
    const at = req.recursive ? resolve(relative(base, home.path), dest) : resolve(dest);
    add({ source: home, dest: at, mode: parentJob ? "copy" : req.mode, parentJob });
  }
  if (req.withChildren) {
    const addChildren = (job: Job, depth: number) => {
      if (depth > req.limit) {
        throw new VmError(`${job.source.path}: tree deeper than cfg_limit_nesting=${req.limit}`);
      }
      for (const child of job.source.children()) {
        if (!isVmHome(child, tool.get("cfg_file_vmsettings"))) {
          throw new VmError(
            `${job.source.childsPath}: lists ${child}, which holds no VM ('vmfix -p' repairs the list)`,
          );
        }
        if (!samePlace(new VmHome(child, tool).parent(), job.source.path)) {
          throw new VmError(
            `${job.source.childsPath}: lists ${child}, whose parent line names another VM ('vmfix -p' repairs the list)`,
          );
        }
        const existing = bySource.get(child);
        // With -r too, the directory layout wins: a child found there keeps its place.
        const childJob = existing ??
          {
            source: new VmHome(child, tool),
            dest: `${job.dest}/${basename(child)}`,
            mode: "copy" as const,
            parentJob: job,
          };
        if (!existing) add(childJob);
        addChildren(childJob, depth + 1);
      }
    };
    for (const job of [...jobs]) addChildren(job, 1);
  }
  return jobs;
}

/** The VM homes at and below `dir`, parents before children where both are found, by path otherwise. */
function homesBelow(dir: string, tool: Settings, limit: number): VmHome[] {
  const found = homesBelowDir(dir, tool, limit).map((d) => new VmHome(d, tool));
  // Depth-first from the top puts every parent found above its children;
  // a parent found elsewhere is moved before them.
  const order: VmHome[] = [];
  const placed = new Set<string>();
  const byPath = new Map(found.map((h) => [h.path, h]));
  const place = (h: VmHome, guard: number) => {
    if (placed.has(h.path) || guard > limit) return;
    const parent = h.parent();
    if (parent !== undefined && byPath.has(parent)) place(byPath.get(parent)!, guard + 1);
    placed.add(h.path);
    order.push(h);
  };
  for (const h of found) place(h, 0);
  return order;
}
