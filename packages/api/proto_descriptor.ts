/**
 * proto/k8s.proto as protobufjs reflects it (Root#toJSON): what codec.ts
 * loads, so that no worker reads and parses the .proto file as it starts.
 * Made from the .proto; proto_descriptor_test checks that it still matches
 * (rewrite it with `KEMU_UPDATE_PROTO=1 npx ava dist/proto_descriptor_test.js`).
 */
import type { INamespace } from "protobufjs";

const DESCRIPTOR = {
  "nested": {
    "kemu": {
      "nested": {
        "k8s": {
          "nested": {
            "OwnerReference": {
              "oneofs": {
                "_controller": {"oneof": ["controller"]},
                "_blockOwnerDeletion": {"oneof": ["blockOwnerDeletion"]}
              },
              "fields": {
                "apiVersion": {"type": "string", "id": 1},
                "kind": {"type": "string", "id": 2},
                "name": {"type": "string", "id": 3},
                "uid": {"type": "string", "id": 4},
                "controller": {"type": "bool", "id": 5, "options": {"proto3_optional": true}},
                "blockOwnerDeletion": {"type": "bool", "id": 6, "options": {"proto3_optional": true}}
              }
            },
            "ObjectMeta": {
              "oneofs": {
                "_name": {"oneof": ["name"]},
                "_generateName": {"oneof": ["generateName"]},
                "_namespace": {"oneof": ["namespace"]},
                "_uid": {"oneof": ["uid"]},
                "_resourceVersion": {"oneof": ["resourceVersion"]},
                "_generation": {"oneof": ["generation"]},
                "_creationTimestamp": {"oneof": ["creationTimestamp"]},
                "_deletionTimestamp": {"oneof": ["deletionTimestamp"]},
                "_deletionGracePeriodSeconds": {"oneof": ["deletionGracePeriodSeconds"]}
              },
              "fields": {
                "name": {"type": "string", "id": 1, "options": {"proto3_optional": true}},
                "generateName": {"type": "string", "id": 2, "options": {"proto3_optional": true}},
                "namespace": {"type": "string", "id": 3, "options": {"proto3_optional": true}},
                "uid": {"type": "string", "id": 4, "options": {"proto3_optional": true}},
                "resourceVersion": {"type": "string", "id": 5, "options": {"proto3_optional": true}},
                "generation": {"type": "int64", "id": 6, "options": {"proto3_optional": true}},
                "creationTimestamp": {"type": "string", "id": 7, "options": {"proto3_optional": true}},
                "deletionTimestamp": {"type": "string", "id": 8, "options": {"proto3_optional": true}},
                "deletionGracePeriodSeconds": {"type": "int64", "id": 9, "options": {"proto3_optional": true}},
                "labels": {"keyType": "string", "type": "string", "id": 10},
                "annotations": {"keyType": "string", "type": "string", "id": 11},
                "ownerReferences": {"rule": "repeated", "type": "OwnerReference", "id": 12},
                "finalizers": {"rule": "repeated", "type": "string", "id": 13},
                "extra": {"type": "bytes", "id": 14}
              }
            },
            "Object": {
              "oneofs": {"_metadata": {"oneof": ["metadata"]}},
              "fields": {
                "apiVersion": {"type": "string", "id": 1},
                "kind": {"type": "string", "id": 2},
                "metadata": {"type": "ObjectMeta", "id": 3, "options": {"proto3_optional": true}},
                "spec": {"type": "bytes", "id": 4},
                "status": {"type": "bytes", "id": 5},
                "rest": {"type": "bytes", "id": 6}
              }
            },
            "ObjectList": {
              "oneofs": {"_continue": {"oneof": ["continue"]}, "_remainingItemCount": {"oneof": ["remainingItemCount"]}},
              "fields": {
                "apiVersion": {"type": "string", "id": 1},
                "kind": {"type": "string", "id": 2},
                "resourceVersion": {"type": "string", "id": 3},
                "continue": {"type": "string", "id": 4, "options": {"proto3_optional": true}},
                "remainingItemCount": {"type": "int64", "id": 5, "options": {"proto3_optional": true}},
                "items": {"rule": "repeated", "type": "Object", "id": 6}
              }
            },
            "StatusCause": {
              "oneofs": {"_field": {"oneof": ["field"]}},
              "fields": {
                "reason": {"type": "string", "id": 1},
                "message": {"type": "string", "id": 2},
                "field": {"type": "string", "id": 3, "options": {"proto3_optional": true}}
              }
            },
            "StatusDetails": {
              "oneofs": {"_name": {"oneof": ["name"]}, "_group": {"oneof": ["group"]}, "_kind": {"oneof": ["kind"]}},
              "fields": {
                "name": {"type": "string", "id": 1, "options": {"proto3_optional": true}},
                "group": {"type": "string", "id": 2, "options": {"proto3_optional": true}},
                "kind": {"type": "string", "id": 3, "options": {"proto3_optional": true}},
                "causes": {"rule": "repeated", "type": "StatusCause", "id": 4},
                "hasCauses": {"type": "bool", "id": 5}
              }
            },
            "Status": {
              "oneofs": {"_details": {"oneof": ["details"]}},
              "fields": {
                "status": {"type": "string", "id": 1},
                "message": {"type": "string", "id": 2},
                "reason": {"type": "string", "id": 3},
                "code": {"type": "int32", "id": 4},
                "details": {"type": "StatusDetails", "id": 5, "options": {"proto3_optional": true}}
              }
            },
            "ListOptions": {
              "oneofs": {
                "_labelSelector": {"oneof": ["labelSelector"]},
                "_fieldSelector": {"oneof": ["fieldSelector"]},
                "_limit": {"oneof": ["limit"]},
                "_continue": {"oneof": ["continue"]},
                "_resourceVersion": {"oneof": ["resourceVersion"]}
              },
              "fields": {
                "labelSelector": {"type": "string", "id": 1, "options": {"proto3_optional": true}},
                "fieldSelector": {"type": "string", "id": 2, "options": {"proto3_optional": true}},
                "limit": {"type": "int64", "id": 3, "options": {"proto3_optional": true}},
                "continue": {"type": "string", "id": 4, "options": {"proto3_optional": true}},
                "resourceVersion": {"type": "string", "id": 5, "options": {"proto3_optional": true}}
              }
            },
            "WriteOptions": {
              "oneofs": {
                "_fieldValidation": {"oneof": ["fieldValidation"]},
                "_dryRun": {"oneof": ["dryRun"]},
                "_fieldManager": {"oneof": ["fieldManager"]}
              },
              "fields": {
                "fieldValidation": {"type": "string", "id": 1, "options": {"proto3_optional": true}},
                "dryRun": {"type": "bool", "id": 2, "options": {"proto3_optional": true}},
                "fieldManager": {"type": "string", "id": 3, "options": {"proto3_optional": true}}
              }
            },
            "DeleteOptions": {
              "oneofs": {
                "_propagationPolicy": {"oneof": ["propagationPolicy"]},
                "_gracePeriodSeconds": {"oneof": ["gracePeriodSeconds"]},
                "_dryRun": {"oneof": ["dryRun"]}
              },
              "fields": {
                "propagationPolicy": {"type": "string", "id": 1, "options": {"proto3_optional": true}},
                "gracePeriodSeconds": {"type": "int64", "id": 2, "options": {"proto3_optional": true}},
                "dryRun": {"type": "bool", "id": 3, "options": {"proto3_optional": true}}
              }
            },
            "Method": {
              "values": {
                "GET": 0,
                "LIST": 1,
                "CREATE": 2,
                "UPDATE": 3,
                "UPDATE_STATUS": 4,
                "PATCH": 5,
                "DELETE": 6,
                "WATCH": 7,
                "CANCEL_WATCH": 8
              }
            },
            "Request": {
              "oneofs": {
                "_object": {"oneof": ["object"]},
                "_listOptions": {"oneof": ["listOptions"]},
                "_writeOptions": {"oneof": ["writeOptions"]},
                "_deleteOptions": {"oneof": ["deleteOptions"]}
              },
              "fields": {
                "id": {"type": "uint32", "id": 1},
                "method": {"type": "Method", "id": 2},
                "resource": {"type": "string", "id": 3},
                "namespace": {"type": "string", "id": 4},
                "name": {"type": "string", "id": 5},
                "object": {"type": "Object", "id": 6, "options": {"proto3_optional": true}},
                "listOptions": {"type": "ListOptions", "id": 7, "options": {"proto3_optional": true}},
                "writeOptions": {"type": "WriteOptions", "id": 8, "options": {"proto3_optional": true}},
                "deleteOptions": {"type": "DeleteOptions", "id": 9, "options": {"proto3_optional": true}},
                "patchType": {"type": "string", "id": 10},
                "patch": {"type": "bytes", "id": 11}
              }
            },
            "Response": {
              "oneofs": {"result": {"oneof": ["object", "list", "error"]}},
              "fields": {
                "id": {"type": "uint32", "id": 1},
                "object": {"type": "Object", "id": 2},
                "list": {"type": "ObjectList", "id": 3},
                "error": {"type": "Status", "id": 4}
              }
            },
            "WatchEvent": {
              "oneofs": {"payload": {"oneof": ["object", "status"]}},
              "fields": {
                "watchId": {"type": "uint32", "id": 1},
                "type": {"type": "string", "id": 2},
                "object": {"type": "Object", "id": 3},
                "status": {"type": "Status", "id": 4}
              }
            },
            "Envelope": {
              "oneofs": {"message": {"oneof": ["request", "response", "event"]}},
              "fields": {
                "request": {"type": "Request", "id": 1},
                "response": {"type": "Response", "id": 2},
                "event": {"type": "WatchEvent", "id": 3}
              }
            }
          }
        }
      }
    }
  }
};

export const K8S_PROTO: INamespace = DESCRIPTOR;
