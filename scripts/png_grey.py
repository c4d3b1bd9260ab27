"""A minimal decoder for 8-bit greyscale PNGs (the LIDC crops), standard library only."""
import struct
import zlib


def decode_grey(b):
    """(width, height, pixels) of an 8-bit greyscale, non-interlaced PNG."""
    assert b[:8]==b'\x89PNG\r\n\x1a\n'
    i=8; idat=b''; w=h=0
    while i<len(b):
        n=struct.unpack('>I',b[i:i+4])[0]; t=b[i+4:i+8]; d=b[i+8:i+8+n]; i+=12+n
        if t==b'IHDR': w,h,bd,ct=struct.unpack('>IIBB',d[:10]); assert bd==8 and ct==0,(bd,ct)
        elif t==b'IDAT': idat+=d
    raw=zlib.decompress(idat); out=bytearray(); prev=bytearray(w); p=0
    for y in range(h):
        f=raw[p]; line=bytearray(raw[p+1:p+1+w]); p+=1+w
        for x in range(w):
            a=line[x-1] if x else 0; c=prev[x-1] if x else 0; up=prev[x]
            if f==1: line[x]=(line[x]+a)&255
            elif f==2: line[x]=(line[x]+up)&255
            elif f==3: line[x]=(line[x]+(a+up)//2)&255
            elif f==4:
                pa=abs(up-c); pb=abs(a-c); pc=abs(a+up-2*c)
                pr=a if pa<=pb and pa<=pc else (up if pb<=pc else c)
                line[x]=(line[x]+pr)&255
        out+=line; prev=line
    return w,h,out
