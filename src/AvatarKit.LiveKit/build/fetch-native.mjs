// Obtains LiveKit's native FFI library (livekit-ffi, Apache-2.0) from its npm packages and lays it
// out as runtimes/<rid>/native/<file>. Called by AvatarKit.LiveKit.csproj; safe to run repeatedly.
//
//   node fetch-native.mjs <cacheDir> <outDir> <rid>=<package>@<version>:<entry>:<file>:<sha256> ...
//
// Each tarball comes from `npm pack` (the npm client and its registry configuration), is verified
// against the pinned sha256 before anything is extracted, and is kept in <cacheDir>.
// Linux builds of the library are Node-API addons linked with BIND_NOW: their napi_* imports
// would make dlopen fail outside Node. They are only used by the addon's Node entry point, which
// .NET never calls, so the imports are marked weak here (an ELF symbol-table edit, no compiler):
// the loader then resolves them to null instead of refusing the library.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [cacheDir, outDir, ...specs] = process.argv.slice(2);
if (!cacheDir || !outDir || specs.length === 0) {
  console.error('usage: node fetch-native.mjs <cacheDir> <outDir> <rid>=<package>@<version>:<entry>:<file>:<sha256> ...');
  process.exit(2);
}

const sha256 = (buffer) => createHash('sha256').update(buffer).digest('hex');

function tarballFor(pkg, version, expected) {
  fs.mkdirSync(cacheDir, { recursive: true });
  const name = `${pkg.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
  const file = path.join(cacheDir, name);
  if (!fs.existsSync(file) || sha256(fs.readFileSync(file)) !== expected) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['pack', `${pkg}@${version}`, '--silent', '--pack-destination', cacheDir],
      { stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
  }
  const bytes = fs.readFileSync(file);
  const actual = sha256(bytes);
  if (actual !== expected) {
    fs.rmSync(file, { force: true });
    throw new Error(`${pkg}@${version}: sha256 ${actual} does not match the pinned ${expected}; refusing to use it.`);
  }
  return bytes;
}

// A tar reader for the one regular file we need (npm tarballs are plain ustar).
function extract(tgz, entry) {
  const tar = zlib.gunzipSync(tgz);
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header[0] === 0) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
    const full = prefix ? `${prefix}/${name}` : name;
    if (full === entry) return Buffer.from(tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${entry} is not in the package.`);
}

// Marks undefined napi_* symbols of a 64-bit little-endian ELF's .dynsym as weak; returns how many.
function weakenNodeApiImports(elf) {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i) => {
    const o = shoff + i * shentsize;
    return { type: elf.readUInt32LE(o + 4), offset: Number(elf.readBigUInt64LE(o + 0x18)), size: Number(elf.readBigUInt64LE(o + 0x20)), link: elf.readUInt32LE(o + 0x28), entsize: Number(elf.readBigUInt64LE(o + 0x38)) };
  };
  let changed = 0;
  for (let i = 0; i < shnum; i++) {
    const dynsym = section(i);
    if (dynsym.type !== 11) continue; // SHT_DYNSYM
    const strtab = section(dynsym.link);
    for (let s = dynsym.offset; s < dynsym.offset + dynsym.size; s += dynsym.entsize) {
      const nameOffset = strtab.offset + elf.readUInt32LE(s);
      const name = elf.subarray(nameOffset, elf.indexOf(0, nameOffset)).toString('latin1');
      const info = elf[s + 4];
      const undefinedSymbol = elf.readUInt16LE(s + 6) === 0;
      if (undefinedSymbol && name.startsWith('napi_') && info >> 4 === 1) { // STB_GLOBAL -> STB_WEAK
        elf[s + 4] = (2 << 4) | (info & 0xf);
        changed++;
      }
    }
  }
  return changed;
}

for (const spec of specs) {
  const match = /^([^=]+)=(@?[^@]+)@([^:]+):([^:]+):([^:]+):([0-9a-f]{64})$/.exec(spec);
  if (!match) throw new Error(`bad spec ${spec}`);
  const [, rid, pkg, version, entry, file, expected] = match;
  const target = path.join(outDir, 'runtimes', rid, 'native', file);
  const stamp = `${target}.source`;
  const source = `${pkg}@${version} ${expected}`;
  if (fs.existsSync(target) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === source) continue;
  let library = extract(tarballFor(pkg, version, expected), `package/${entry}`);
  if (rid.startsWith('linux-')) {
    const weakened = weakenNodeApiImports(library);
    if (weakened === 0) throw new Error(`${pkg}: no napi_* imports found; the ELF edit no longer applies.`);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(`${target}.tmp`, library);
  fs.renameSync(`${target}.tmp`, target);
  fs.writeFileSync(stamp, source);
  library = null;
  console.log(`livekit-ffi: ${rid} <- ${pkg}@${version}`);
}
