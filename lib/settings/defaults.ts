/**
 * The built-in defaults, the first settings layer. Changing a value here
 * changes every VM that does not set it.
 * @module
 */

/** Built-in default of every setting the tool knows. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  cfg_include_userhome: "yes",
  cfg_qemu_cmdprefix: "qemu-system-",
  cfg_file_childs: "childs.lst",
  cfg_file_lock: ".vm.settings.lock",
  cfg_file_pid: "qemu.pid",
  cfg_file_monitor: "monitor.sock",
  cfg_file_serial: "serial.sock",
  cfg_file_seriallog: "serial.log",
  cfg_file_record: "qemu.json",
  cfg_file_tmpdir: "vmtools-backup.XXXXXXXXXX",
  cfg_file_vmsettings: "vm.settings",
  cfg_limit_nesting: "100",
  cfg_limit_waitlock: "10",
  // Directories below which a VM's own settings file may share folders (see lib/storage/shares.ts).
  cfg_share_allow: "",
  cfg_modules_clone: "networking_iface_mac storage_backend cloudinit firmware_vars",
  cfg_modules_buildcmd:
    "qemu firmware boot cpu macos display keyboard monitor serial name networking ram storage_cdrom storage_hdd share cloudinit",
  cfg_modules_configure_templates: "autodetect",
  cfg_modules_configure_settings:
    "cpu_count ram_size networking_auto storage_hdd_import storage_hdd1_createsize",
  cfg_ui_assumeyes: "no",
  cfg_ui_verbosity: "2",

  vm_name: "",
  vm_boot_order: "cd",
  vm_boot_menu: "no",
  vm_boot_once: "",
  vm_cpu_count: "2",
  vm_cpu_type: "host",
  vm_display_device: "std",
  vm_display_type: "auto",
  vm_display_iface: "127.0.0.1",
  vm_display_port: "",
  vm_display_portmin: "5900",
  vm_keyboard_mapping: "",
  vm_macos_osk: "",
  vm_networking_default_device: "e1000-82545em",
  vm_networking_default_mac: "52:54:00",
  vm_networking_default_mode: "user",
  vm_qemu_accel: "auto",
  vm_qemu_arch: "x86_64",
  vm_qemu_compress: "no",
  vm_qemu_daemonize: "yes",
  vm_qemu_machine: "",
  vm_qemu_params: "-usb -device usb-tablet",
  vm_qemu_sandbox: "yes",
  vm_qemu_shutdown_timeout: "20",
  vm_ram_size: "2G",
  vm_serial_mode: "socket",
  vm_storage_cdrom1_enable: "no",
  vm_storage_cdrom1_backend: "",
  vm_storage_cdrom2_enable: "no",
  vm_storage_cdrom2_backend: "",
  vm_storage_hdd1_enable: "no",
  vm_storage_hdd1_backend: "",
  vm_storage_hdd1_createsize: "",
  vm_storage_hdd2_enable: "no",
  vm_storage_hdd2_backend: "",
  vm_storage_hdd2_createsize: "",
  vm_storage_hdd_interface: "ide",
  vm_storage_rwmode: "rw",

  // UEFI firmware (modules firmware, firmware_vars) and the cloud-init
  // NoCloud seed (modules cloudinit in buildcmd and clone).
  cfg_qemu_firmwaredirs: "/usr/share/qemu/firmware /etc/qemu/firmware",
  cfg_file_efivars: "efivars.fd",
  cfg_file_cidata: "cidata.iso",
  vm_firmware: "bios",
  vm_cloudinit_userdata: "",
  vm_cloudinit_metadata: "",
  vm_cloudinit_networkconfig: "",
  vm_cloudinit_instanceid: "",
};
