/**
 * Templates that ship inside the program. A file `templates/NAME.tpl` in
 * one of the configuration roots replaces the one of the same name.
 * @module
 */

/** Built-in template texts, by name. */
export const BUILTIN_TEMPLATES: Readonly<Record<string, string>> = {
  modern: `# A current PC: q35 chipset, virtio disks and network.
vm_qemu_machine=q35
vm_storage_hdd_interface=virtio
vm_networking_default_device=virtio-net-pci
vm_display_device=std
`,
  legacy: `# An older PC for old systems: i440fx chipset, IDE disks, e1000, Cirrus VGA.
vm_qemu_machine=pc
vm_storage_hdd_interface=ide
vm_networking_default_device=e1000
vm_display_device=cirrus
vm_cpu_count=1
vm_ram_size=512M
`,
  macos: `# Apple macOS guests. Set vm_macos_osk to the Apple SMC key.
template modern
vm_cpu_type=Penryn,vendor=GenuineIntel,+invtsc,vmware-cpuid-freq=on
vm_ram_size=4G
vm_networking_default_device=vmxnet3
vm_storage_hdd_interface=ide
vm_display_device=vmware
`,
};
