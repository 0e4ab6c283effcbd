/* An empty ICU common data library, built by packaging/labeldesk.spec in place of the system's
   libicudata.so.<ICU_VERSION> (31 MB) in the Linux bundle: Tesseract's libarchive links libxml2,
   which links ICU, but nothing LabelDesk runs converts text through it. The layout is that of
   ICU's own stubdata (an offset table of contents with no entries): ICU then finds no data, and
   a converter libxml2 doesn't have built in reports an unsupported encoding.

   gcc -shared -fPIC -O2 -DICU_VERSION=72 -Wl,-soname,libicudata.so.72 -o libicudata.so.72 \
       icudata_stub.c */
#include <stdint.h>

#ifndef ICU_VERSION
#error "ICU_VERSION (the major version, e.g. 72) must be defined"
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

typedef struct {
    uint16_t headerSize;
    uint8_t magic1, magic2;
    struct {  /* UDataInfo */
        uint16_t size, reservedWord;
        uint8_t isBigEndian, charsetFamily, sizeofUChar, reservedByte;
        uint8_t dataFormat[4], formatVersion[4], dataVersion[4];
    } info;
    char padding[8];
    uint32_t count, reserved;
    struct { int32_t nameOffset, dataOffset; } toc[1];
    int fakeNameAndData[4];
} ICU_Data_Header;

/* icudt<version>_dat: the symbol libicuuc looks for */
__attribute__((visibility("default")))
const ICU_Data_Header CAT(CAT(icudt, ICU_VERSION), _dat) = {
    32, 0xda, 0x27,
    {20, 0, 0 /* little endian */, 0 /* ASCII */, 2, 0,
     {0x54, 0x6f, 0x43, 0x50} /* "ToCP" */, {1, 0, 0, 0}, {0, 0, 0, 0}},
    {0, 0, 0, 0, 0, 0, 0, 0}, 0 /* no entries */, 0, {{0, 0}}, {0, 0, 0, 0}};
