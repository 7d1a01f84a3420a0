// `vnetbench image build`: the guest kernel and initramfs the qemu lab boots.

import type { Command } from "commander";

export function registerImageCommand(program: Command): void {
  const image = program.command("image").description("guest images for the qemu lab");
  image
    .command("build")
    .description("build (or find in the cache) a guest kernel + busybox initramfs from Debian packages")
    .option("--kernel-package <name>", "Debian kernel package (default: what linux-image-amd64 depends on)")
    .option("--cache <dir>", "cache directory (default ~/.cache/vnetbench)")
    .option("--force", "rebuild even when cached")
    .option("--json", "print the image as JSON")
    .action(async (options) => {
      const { buildImage } = await import("../guests/image.js");
      const built = await buildImage({
        kernelPackage: options.kernelPackage,
        cacheDir: options.cache,
        force: options.force,
      });
      const text = [
        `image ${built.key}${built.cached ? " (cached)" : ""}: kernel ${built.kernelRelease}`,
        `  kernel ${built.kernel}`,
        `  initrd ${built.initrd}`,
      ].join("\n");
      process.stdout.write(options.json ? `${JSON.stringify(built, null, 2)}\n` : `${text}\n`);
    });
}
