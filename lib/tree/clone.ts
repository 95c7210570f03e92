/**
 * Making VMs from VMs (vmcp, vmfork): the jobs of a plan carried out as one
 * change. Every home involved is locked first (one global order), none may
 * be running; each new VM gets its settings file, its disks (by the clone
 * modules: overlays, copies or shared images) and its place in its
 * parent's children list. Killed or failed half-way, nothing remains of the
 * new VMs and the sources are as they were.
 * @module
 */
import { type Change, withChange } from "../change/change.ts";
import { VmError } from "../errors.ts";
import { claimInChange, claimNewHome, lockForChange } from "../home/claim.ts";
import type { Lock } from "../home/lock.ts";
import { VmHome } from "../home/home.ts";
import { backingLink, linkPath } from "../home/links.ts";
import { randomMac } from "../mac.ts";
import type { CloneContext, CloneModule } from "../modules/api.ts";
import { moduleLog, storageTools } from "../modules/context.ts";
import { ModuleLoader, runModule } from "../modules/loader.ts";
import { basename, dirname, resolve } from "../path.ts";
import { runningFrom } from "../running/record.ts";
import { formatSettings, type SettingsFile, setValue, writeFileAtomic } from "../settings/file.ts";
import { type Resolved, resolveSettings } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import { detectFormat } from "../storage/inspect.ts";
import { convertImage, createOverlay, imageInfo } from "../storage/qemuimg.ts";
import { checkChain } from "../storage/reach.ts";
import type { Toolbox } from "../toolbox.ts";
import { cloneSettingsFile } from "./new_settings.ts";
import type { Job } from "./plan.ts";

/** How the clones are made, beyond what the plan says. */
export interface CloneOptions {
  /** `-s`: use the sources' disks in snapshot mode instead of copies. */
  snapshot: boolean;
  /** `-k`: keep MAC addresses. */
  keepUnique: boolean;
  /** `-z`: compress copied images. */
  compress: boolean;
  /** `-n`: do not lock or write anything in the sources (read-only media). */
  untouched: boolean;
  /** `-M`: clone modules to skip. */
  skip: readonly string[];
  /** `-m`: clone modules to add. */
  add: readonly string[];
  /** `-o` values, applied on top of every VM's settings. */
  overrides: [string, string][];
}

/** Carries out `jobs` (the first one's destination is claimed) as one change; returns the new homes. */
export async function cloneJobs(
  jobs: readonly Job[],
  opts: CloneOptions,
  tool: Settings,
  tools: Toolbox,
  label: string,
): Promise<string[]> {
  const first = jobs[0];
  const parents = jobs.flatMap((j) => j.parentJob ? [] : newParentOf(j)).map((p) => new VmHome(p, tool));
  if (opts.untouched) {
    // Nothing may be written in the source: the journal goes in the new home.
    const claim = await claimNewHome(first.dest, first.dest, tool, tools.log, parents);
    let done = false;
    try {
      await cloneAll(first.dest, (change) => claim.adopt(change));
      done = true;
    } finally {
      claim.release(done);
    }
  } else {
    // The journal goes in the source, which a retry or the next command on
    // it locks, and so undoes what a killed run left.
    const claim = await lockForChange([...jobs.map((j) => j.source), ...parents], tools.log);
    let destLock: Lock | undefined;
    try {
      await cloneAll(first.source.path, async (change) => {
        destLock = await claimInChange(change, first.dest, first.dest, tool, tools.log);
      });
    } finally {
      destLock?.release();
      claim.release(true);
    }
  }
  return jobs.map((j) => j.dest);

  async function cloneAll(
    journalDir: string,
    claimDest: (change: Change) => void | Promise<void>,
  ): Promise<void> {
    for (const job of jobs) await refuseRunning(job.source);
    await withChange(
      journalDir,
      { pattern: tool.get("cfg_file_tmpdir"), label, log: tools.log },
      async (change) => {
        await claimDest(change);
        const made = new Map<string, string>(); // source image -> its copy, for children copied along
        for (const job of jobs) await cloneOne(change, job, opts, tool, tools, made);
      },
    );
  }
}

/** The home a job's new VM is the child of (none for an autonomous copy). */
function newParentOf(job: Job): string[] {
  if (job.parentJob) return [job.parentJob.dest];
  if (job.mode === "fork") return [job.source.path];
  if (job.mode === "copy") return job.source.parent() !== undefined ? [job.source.parent()!] : [];
  return [];
}

async function refuseRunning(home: VmHome): Promise<void> {
  const running = await runningFrom(home.files, home.tool.get("cfg_qemu_cmdprefix"));
  if (running) {
    throw new VmError(`${home.path}: running (pid ${running.record.pid}); stop it first (vmdown)`);
  }
}

async function cloneOne(
  change: Change,
  job: Job,
  opts: CloneOptions,
  tool: Settings,
  tools: Toolbox,
  made: Map<string, string>,
): Promise<void> {
  const { source, dest, mode } = job;
  const resolved = resolveSettings({ roots: tools.roots, home: source.path, overrides: opts.overrides });
  change.mkdirs(dest);
  if (VmHome.isHome(dest, tool)) throw new VmError(`${dest}: already holds a VM`);
  const parent = newParentOf(job)[0];
  const file = cloneSettingsFile(mode, source, resolved.chain, dest, parent);
  const newSettings = () =>
    resolveSettings({ roots: tools.roots, home: dest, file, overrides: opts.overrides }).settings;
  nameAfterHome(file, resolved, dest, newSettings);
  const ctx = cloneContext(change, job, opts, resolved.settings, file, newSettings, tools, made);
  const loader = new ModuleLoader(tools.roots, tool.bool("cfg_include_userhome"), tools.builtins);
  const names = [...resolved.settings.list("cfg_modules_clone"), ...opts.add].filter((n) =>
    !opts.skip.includes(n)
  );
  for (const m of await loader.load<CloneModule>("clone", names, "cfg_modules_clone")) {
    tools.log.debug(`clone module ${m.name} (${m.source})`);
    await runModule(m, ctx);
  }
  change.create(file.path);
  writeFileAtomic(file.path, formatSettings(file));
  if (parent !== undefined) new VmHome(parent, tool).addChild(change, dest);
  tools.log.info(`${mode === "fork" ? "forked" : "copied"} ${source.path} to ${dest}`);
}

/**
 * A copy that would carry the source's own name is named after its home
 * instead (names tell VMs apart in listings and window titles).
 */
function nameAfterHome(file: SettingsFile, source: Resolved, dest: string, settings: () => Settings): void {
  const origin = source.settings.origin("vm_name");
  if (!origin || origin.layer === "default" || origin.layer === "tool") return;
  if (settings().get("vm_name") === source.settings.get("vm_name")) setValue(file, "vm_name", basename(dest));
}

function cloneContext(
  change: Change,
  job: Job,
  opts: CloneOptions,
  sourceSettings: Settings,
  file: SettingsFile,
  newSettings: () => Settings,
  tools: Toolbox,
  made: Map<string, string>,
): CloneContext {
  const { dest } = job;
  let settings = newSettings();
  const storage = storageTools(sourceSettings, job.source.path, tools.log, []);
  const target = (name: string) => {
    if (name.includes("/") || name === "" || name === "." || name === "..") {
      throw new VmError(`clone module: '${name}' is not a file name`);
    }
    return `${dest}/${name}`;
  };
  const remember = (image: string, copy: string) => {
    made.set(resolve(image), copy);
    return basename(copy);
  };
  return {
    mode: job.mode,
    snapshot: opts.snapshot,
    keepUnique: opts.keepUnique,
    source: { home: job.source.path, settings: sourceSettings },
    home: dest,
    get settings() {
      return settings;
    },
    set: (name, value) => {
      setValue(file, name, value);
      settings = newSettings();
    },
    drives: storage.drives,
    storage,
    disks: {
      overlay: async (image, name) => {
        const backing = made.get(resolve(image)) ?? resolve(image);
        const owner = job.parentJob?.dest ?? job.source.path;
        await createOverlay(
          change,
          target(name),
          backingLink(dest, owner, backing),
          formatOf(backing),
          tools.log,
        );
        return remember(image, target(name));
      },
      copy: async (image, name) => {
        // What a copy reads must not be a file the image names elsewhere (an external data file, say).
        checkChain(image, image);
        const info = await imageInfo(image).catch((e) => {
          throw new VmError(`${image}: ${(e as Error).message}`);
        });
        const backing = info.backingFilename === null
          ? undefined
          : resolve(info.backingFilename, dirname(image));
        const newBacking = backing === undefined ? undefined : made.get(backing) ?? backing;
        const parentHome = job.parentJob?.dest ?? newParentOf(job)[0] ?? dirname(newBacking ?? dest);
        await convertImage(change, image, target(name), tools.log, {
          to: info.format === "raw" && !newBacking ? "raw" : "qcow2",
          compress: opts.compress && info.format !== "raw",
          backing: newBacking
            ? {
              file: backingLink(dest, parentHome, newBacking),
              format: info.backingFormat ?? formatOf(newBacking),
            }
            : undefined,
          label: `copying ${basename(image)}`,
        });
        return remember(image, target(name));
      },
      flatten: async (image, name) => {
        checkChain(image, image);
        await convertImage(change, image, target(name), tools.log, {
          compress: opts.compress,
          label: `copying ${basename(image)}`,
        });
        return remember(image, target(name));
      },
      share: (image) => `snap:${linkPath(dest, resolve(image))}`,
    },
    copyFile: (from, to) => {
      const parts = to.split("/");
      if (to.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
        throw new VmError(`clone module: '${to}' is not a path inside the new home`);
      }
      const path = `${dest}/${to}`;
      change.mkdirs(dirname(path));
      change.create(path);
      try {
        Deno.copyFileSync(from, path);
      } catch (e) {
        throw new VmError(`cannot copy ${from} to ${path}: ${(e as Error).message}`);
      }
      return path;
    },
    randomMac,
    log: moduleLog(tools.log),
  };
}

/** The format QEMU needs named for a backing file. */
function formatOf(image: string): string {
  const info = Deno.statSync(image);
  const format = detectFormat(image, info.size);
  return format === "qcow2" ? "qcow2" : "raw";
}
