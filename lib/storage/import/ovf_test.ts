import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { VmError } from "../../errors.ts";
import { ovfDescriptor } from "../../../tests/fixtures/ova.ts";
import { parseOvf, unitBytes } from "./ovf.ts";

Deno.test("parseOvf reads the disks, name, memory, CPUs, NICs and first MAC of an exporter's descriptor", async () => {
  const text = ovfDescriptor({
    name: "Web  appliance",
    memoryMiB: 1536,
    cpus: 3,
    nics: 2,
    mac: "08:00:27:AB:CD:EF",
    disks: [{ id: "d1", file: "web-disk1.vmdk", capacity: 8192 }, { id: "d2", capacity: 100 }],
  });
  const ovf = await parseOvf(text, "x.ova: x.ovf");
  deepEqual(ovf, {
    name: "Web appliance",
    memoryMiB: 1536,
    cpus: 3,
    nics: 2,
    mac: "08:00:27:ab:cd:ef",
    disks: [
      {
        id: "d1",
        file: "web-disk1.vmdk",
        capacityBytes: 8192 * 2 ** 20,
        format: "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized",
        compression: undefined,
        chunked: false,
      },
      {
        id: "d2",
        capacityBytes: 100 * 2 ** 20,
        format: "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized",
      },
    ],
  });
});

Deno.test("parseOvf: prefixed elements, OVF 2 port items, the default deployment option, no hardware", async () => {
  const text = `<?xml version="1.0"?>
<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2" xmlns:rasd="r" xmlns:epasd="e">
  <ovf:References><ovf:File ovf:id="f" ovf:href="d.vmdk" ovf:compression="gzip"/></ovf:References>
  <ovf:DiskSection><ovf:Disk ovf:diskId="d" ovf:fileRef="f" ovf:capacity="2" ovf:capacityAllocationUnits="GigaBytes"/></ovf:DiskSection>
  <ovf:VirtualSystem ovf:id="only-an-id">
    <ovf:DeploymentOptionSection>
      <ovf:Configuration ovf:id="small"/><ovf:Configuration ovf:id="large" ovf:default="true"/>
    </ovf:DeploymentOptionSection>
    <ovf:VirtualHardwareSection>
      <ovf:Item><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity><rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits></ovf:Item>
      <ovf:Item ovf:configuration="small"><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></ovf:Item>
      <ovf:Item ovf:configuration="large"><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>8</rasd:VirtualQuantity></ovf:Item>
      <ovf:EthernetPortItem><epasd:ResourceType>10</epasd:ResourceType><epasd:Address>00:11:22:33:44:55</epasd:Address></ovf:EthernetPortItem>
    </ovf:VirtualHardwareSection>
  </ovf:VirtualSystem>
</ovf:Envelope>`;
  const ovf = await parseOvf(text, "w");
  equal(ovf.name, "only-an-id");
  equal(ovf.memoryMiB, 1024);
  equal(ovf.cpus, 8);
  equal(ovf.nics, 1);
  equal(ovf.mac, "00:11:22:33:44:55");
  equal(ovf.disks[0].capacityBytes, 2 * 2 ** 30);
  equal(ovf.disks[0].compression, "gzip");
  const bare = await parseOvf(
    '<Envelope><VirtualSystem ovf:id="v" xmlns:ovf="o"><Name>n</Name></VirtualSystem></Envelope>',
    "w",
  );
  deepEqual(bare, { name: "n", disks: [] }, "no hardware section: nothing said about NICs");
});

Deno.test("parseOvf: what is not a usable descriptor is one error naming it", async () => {
  const cases: [string, RegExp][] = [
    [
      "<Envelope>\n  <References>\n</Envelope>",
      /^x\.ova: x\.ovf:3:1: not well-formed XML: Expected closing tag 'References'/,
    ],
    ["<Other/>", /^x\.ova: x\.ovf: not an OVF descriptor \(no Envelope element\)/],
    ["<Envelope><VirtualSystemCollection/></Envelope>", /describes several virtual machines/],
    ["<Envelope><VirtualSystem/><VirtualSystem/></Envelope>", /describes several virtual machines/],
    ["<Envelope/>", /describes no virtual machine/],
    [
      '<Envelope><DiskSection><Disk diskId="d" fileRef="nope"/></DiskSection><VirtualSystem/></Envelope>',
      /disk 'd' refers to file 'nope', which References does not list/,
    ],
    [
      '<Envelope><DiskSection><Disk diskId="d" capacity="${size}"/></DiskSection><VirtualSystem/></Envelope>',
      /disk 'd': capacity '\$\{size\}' is not a whole number/,
    ],
    [
      "<Envelope><VirtualSystem><VirtualHardwareSection><Item><ResourceType>4</ResourceType><VirtualQuantity>1</VirtualQuantity><AllocationUnits>furlongs</AllocationUnits></Item></VirtualHardwareSection></VirtualSystem></Envelope>",
      /unknown allocation unit 'furlongs'/,
    ],
  ];
  for (const [text, expected] of cases) {
    await rejects(
      parseOvf(text, "x.ova: x.ovf"),
      (e: Error) => e instanceof VmError && expected.test(e.message),
      text,
    );
  }
});

Deno.test("unitBytes reads DMTF programmatic units and common names", () => {
  equal(unitBytes("byte", "w"), 1);
  equal(unitBytes("byte * 2^20", "w"), 2 ** 20);
  equal(unitBytes("byte*1024", "w"), 1024);
  equal(unitBytes("MegaBytes", "w"), 2 ** 20);
  equal(unitBytes("GB", "w"), 2 ** 30);
  throws(() => unitBytes("hertz", "w"), /w: unknown allocation unit 'hertz'/);
});
