# Type stubs for greenfix's public API (the package itself also runs on
# Python 2.7, so its sources carry no annotations).
import os
from typing import Any, Dict, List, Optional, Tuple, Union

__version__: str

class GreenfixError(RuntimeError): ...

_Nameserver = Union[str, Tuple[str, int]]
# a list or tuple, never a bare string (greenfix refuses one)
_Nameservers = Union[List[_Nameserver], Tuple[_Nameserver, ...]]
_Path = Union[str, "os.PathLike[str]"]

def patch(
    framework: Optional[str] = ...,
    *,
    resolver: Optional[str] = ...,
    resolv_conf: _Path = ...,
    hosts: _Path = ...,
    nsswitch: _Path = ...,
    nameservers: Optional[_Nameservers] = ...,
    lookups: bool = ...,
    lookup_threads: int = ...,
    timeout: Optional[float] = ...,
    attempts: Optional[int] = ...,
    cache_size: int = ...,
    min_ttl: float = ...,
    max_ttl: float = ...,
    default_ttl: float = ...,
    negative_ttl: float = ...,
    max_negative_ttl: float = ...,
    hold_down: float = ...,
    serve_stale: bool = ...,
    max_stale: float = ...,
) -> bool: ...
def unpatch() -> bool: ...
def is_patched() -> bool: ...
def stats() -> Dict[str, Any]: ...
def clear_cache() -> int: ...
