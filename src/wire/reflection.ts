import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

type Request = v1.ServerReflectionRequest;
type Answer = v1.ServerReflectionResponse["messageResponse"];

/** What reflection can answer about, built once from the served services' files. */
interface Index {
  readonly services: readonly string[];
  readonly files: ReadonlyMap<string, DescFile>;
  readonly symbols: ReadonlyMap<string, DescFile>;
  readonly messages: ReadonlySet<string>;
  readonly extensions: readonly { extendee: string; number: number; file: DescFile }[];
}

/**
 * Serves gRPC server reflection (v1 and v1alpha) for `services`, which should include every
 * service the server answers, reflection and health among them, since clients list from it.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const index = buildIndex(services);
  const encoded = new Map<DescFile, Uint8Array>();
  const bytesOf = (file: DescFile): Uint8Array => {
    let bytes = encoded.get(file);
    if (!bytes) encoded.set(file, (bytes = toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  };

  async function* serve(reqs: AsyncIterable<Request>): AsyncIterable<v1.ServerReflectionResponse> {
    for await (const req of reqs) {
      const messageResponse = answer(index, req, bytesOf);
      yield create(v1.ServerReflectionResponseSchema, { validHost: req.host, originalRequest: req, messageResponse });
    }
  }

  router.service(v1.ServerReflection, { serverReflectionInfo: serve });
  // v1alpha has the same messages with the same field numbers, so re-encoding is an exact
  // conversion; it keeps one implementation instead of a twin differing only in type names.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(reqs) {
      const asV1 = mapStream(reqs, (r) => convert(v1alpha.ServerReflectionRequestSchema, v1.ServerReflectionRequestSchema, r));
      for await (const res of serve(asV1)) {
        yield convert(v1.ServerReflectionResponseSchema, v1alpha.ServerReflectionResponseSchema, res);
      }
    },
  });
}

function answer(index: Index, req: Request, bytesOf: (file: DescFile) => Uint8Array): Answer {
  const files = (file: DescFile): Answer => ({
    case: "fileDescriptorResponse",
    value: create(v1.FileDescriptorResponseSchema, { fileDescriptorProto: withDependencies(file).map(bytesOf) }),
  });
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: create(v1.ListServiceResponseSchema, { service: index.services.map((name) => ({ name })) }),
      };
    case "fileByFilename": {
      const file = index.files.get(r.value);
      return file ? files(file) : notFound(`file "${r.value}" not found`);
    }
    case "fileContainingSymbol": {
      const file = index.symbols.get(r.value);
      return file ? files(file) : notFound(`symbol "${r.value}" not found`);
    }
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = r.value;
      const ext = index.extensions.find((e) => e.extendee === containingType && e.number === extensionNumber);
      return ext ? files(ext.file) : notFound(`extension ${extensionNumber} of "${containingType}" not found`);
    }
    case "allExtensionNumbersOfType": {
      if (!index.messages.has(r.value)) return notFound(`message type "${r.value}" not found`);
      const extensionNumber = index.extensions.filter((e) => e.extendee === r.value).map((e) => e.number);
      return {
        case: "allExtensionNumbersResponse",
        value: create(v1.ExtensionNumberResponseSchema, { baseTypeName: r.value, extensionNumber }),
      };
    }
    default:
      // As grpc-go does: a request we cannot parse ends the stream, unlike a lookup miss.
      throw new ConnectError("reflection request sets none of its message_request fields", Code.InvalidArgument);
  }
}

/** A miss is answered inside the stream, so the client can keep asking on the same stream. */
function notFound(errorMessage: string): Answer {
  return { case: "errorResponse", value: create(v1.ErrorResponseSchema, { errorCode: Code.NotFound, errorMessage }) };
}

/** The file first, then its transitive imports once each: clients need them all to build it. */
function withDependencies(file: DescFile): DescFile[] {
  const seen = new Set<DescFile>([file]);
  for (const f of seen) f.dependencies.forEach((d) => seen.add(d));
  return [...seen];
}

function buildIndex(services: readonly DescService[]): Index {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const messages = new Set<string>();
  const extensions: { extendee: string; number: number; file: DescFile }[] = [];

  // Walks the FileDescriptorProto rather than DescFile so that map entries and every other
  // name protoc defines resolve, as they do with grpc-go's registry.
  function addFile(file: DescFile): void {
    const proto = file.proto;
    if (files.has(proto.name)) return;
    files.set(proto.name, file);
    const add = (name: string) => symbols.set(name, file);
    const addExtension = (scope: string, x: FieldDescriptorProto) => {
      add(join(scope, x.name));
      extensions.push({ extendee: x.extendee.replace(/^\./, ""), number: x.number, file });
    };
    // Enum values are siblings of their enum in protobuf scoping, not its children.
    const addEnum = (scope: string, e: EnumDescriptorProto) => {
      add(join(scope, e.name));
      e.value.forEach((v) => add(join(scope, v.name)));
    };
    const addMessage = (scope: string, m: DescriptorProto) => {
      const name = join(scope, m.name);
      add(name);
      messages.add(name);
      [...m.field, ...m.oneofDecl].forEach((member) => add(join(name, member.name)));
      m.nestedType.forEach((n) => addMessage(name, n));
      m.enumType.forEach((e) => addEnum(name, e));
      m.extension.forEach((x) => addExtension(name, x));
    };
    const pkg = proto.package;
    proto.messageType.forEach((m) => addMessage(pkg, m));
    proto.enumType.forEach((e) => addEnum(pkg, e));
    proto.extension.forEach((x) => addExtension(pkg, x));
    for (const s of proto.service) {
      const name = join(pkg, s.name);
      add(name);
      s.method.forEach((m) => add(join(name, m.name)));
    }
    file.dependencies.forEach(addFile);
  }

  services.forEach((s) => addFile(s.file));
  return { services: [...new Set(services.map((s) => s.typeName))], files, symbols, messages, extensions };
}

function join(scope: string, name: string): string {
  return scope ? `${scope}.${name}` : name;
}

function convert<From extends DescMessage, To extends DescMessage>(
  from: From,
  to: To,
  message: MessageShape<From>,
): MessageShape<To> {
  return fromBinary(to, toBinary(from, message));
}

async function* mapStream<A, B>(source: AsyncIterable<A>, fn: (a: A) => B): AsyncIterable<B> {
  for await (const a of source) yield fn(a);
}
