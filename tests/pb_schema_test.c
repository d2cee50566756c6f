/*
** pb_schema_test.c - the .proto text parser (src/protobuf_schema.c)
** against protoc: the same file read as text by sluice and as the
** descriptor set protoc compiled from it must give the same tables (every
** message and enum, every field's number, type, label, presence, packing
** and referenced type).  Run by tests/protobuf.sh.
**
** usage: pb_schema_test FILE.proto FILE.desc
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf_schema.h"

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *z = malloc((size_t)size + 1);
  *n = fread(z, 1, (size_t)size, f);
  fclose(f);
  return z;
}

static int fails;

static void differ(const char *what, const char *msg, const char *field, long a, long b) {
  printf("FAIL: %s%s%s: %s: text %ld, descriptor set %ld\n", msg, field ? "." : "",
         field ? field : "", what, a, b);
  fails++;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pb_schema_test FILE.proto FILE.desc\n");
    return 2;
  }
  size_t tn, dn;
  char *tz = slurp(argv[1], &tn), *dz = slurp(argv[2], &dn);
  if (!tz || !dz) return fprintf(stderr, "cannot read the inputs\n"), 2;
  sl_pb_schema t, d;
  sl_err err = {0};
  if (sl_pb_schema_from_proto(&t, tz, tn, &err))
    return printf("FAIL: %s as text: %s\n", argv[1], err.msg), 1;
  if (sl_pb_schema_from_descset(&d, (const uint8_t *)dz, dn, &err))
    return printf("FAIL: %s: %s\n", argv[2], err.msg), 1;
  if (t.nmsg != d.nmsg) differ("messages", argv[1], NULL, t.nmsg, d.nmsg);
  if (t.nenum != d.nenum) differ("enums", argv[1], NULL, t.nenum, d.nenum);
  for (int i = 0; i < t.nmsg; i++) {
    const sl_pb_message *a = &t.msgs[i];
    int k = sl_pb_schema_find(&d, a->name);
    if (k < 0 || strcmp(d.msgs[k].name, a->name)) {
      printf("FAIL: message %s not in the descriptor set\n", a->name);
      fails++;
      continue;
    }
    const sl_pb_message *b = &d.msgs[k];
    if (a->nfield != b->nfield) differ("fields", a->name, NULL, a->nfield, b->nfield);
    if (a->map_entry != b->map_entry)
      differ("map entry", a->name, NULL, a->map_entry, b->map_entry);
    if (a->proto3 != b->proto3) differ("proto3", a->name, NULL, a->proto3, b->proto3);
    for (int j = 0; j < a->nfield && j < b->nfield; j++) {
      const sl_pb_field *x = &a->fields[j], *y = NULL;
      for (int m = 0; m < b->nfield; m++)
        if (!strcmp(b->fields[m].name, x->name)) y = &b->fields[m];
      if (!y) {
        printf("FAIL: %s.%s not in the descriptor set\n", a->name, x->name);
        fails++;
        continue;
      }
      if (x->number != y->number) differ("number", a->name, x->name, x->number, y->number);
      if (x->type != y->type) differ("type", a->name, x->name, x->type, y->type);
      if (x->repeated != y->repeated)
        differ("repeated", a->name, x->name, x->repeated, y->repeated);
      if (x->presence != y->presence)
        differ("presence", a->name, x->name, x->presence, y->presence);
      if (x->packed != y->packed) differ("packed", a->name, x->name, x->packed, y->packed);
      if ((x->msg >= 0) != (y->msg >= 0) ||
          (x->msg >= 0 && strcmp(t.msgs[x->msg].name, d.msgs[y->msg].name))) {
        printf("FAIL: %s.%s: message type %s, descriptor set %s\n", a->name, x->name,
               x->msg >= 0 ? t.msgs[x->msg].name : "-", y->msg >= 0 ? d.msgs[y->msg].name : "-");
        fails++;
      }
      if ((x->enm >= 0) != (y->enm >= 0) ||
          (x->enm >= 0 && strcmp(t.enums[x->enm].name, d.enums[y->enm].name))) {
        printf("FAIL: %s.%s: enum type %s, descriptor set %s\n", a->name, x->name,
               x->enm >= 0 ? t.enums[x->enm].name : "-", y->enm >= 0 ? d.enums[y->enm].name : "-");
        fails++;
      }
    }
  }
  for (int i = 0; i < t.nenum; i++) {
    const sl_pb_enum *a = &t.enums[i], *b = NULL;
    for (int k = 0; k < d.nenum; k++)
      if (!strcmp(d.enums[k].name, a->name)) b = &d.enums[k];
    if (!b) {
      printf("FAIL: enum %s not in the descriptor set\n", a->name);
      fails++;
      continue;
    }
    if (a->n != b->n) differ("values", a->name, NULL, a->n, b->n);
    for (int j = 0; j < a->n && j < b->n; j++)
      if (strcmp(a->names[j], b->names[j]) || a->numbers[j] != b->numbers[j]) {
        printf("FAIL: enum %s value %d: %s = %d, descriptor set %s = %d\n", a->name, j, a->names[j],
               a->numbers[j], b->names[j], b->numbers[j]);
        fails++;
      }
  }
  printf("%s: %d messages, %d enums, %d differences\n", argv[1], t.nmsg, t.nenum, fails);
  sl_pb_schema_free(&t);
  sl_pb_schema_free(&d);
  free(tz);
  free(dz);
  return fails ? 1 : 0;
}
