# Type stubs for greenfix's public API (the package itself also runs on
# Python 2.7, so its sources carry no annotations).
from typing import Any, Dict, Iterable, Optional, Tuple, Union

__version__: str

class GreenfixError(RuntimeError): ...

_Nameserver = Union[str, Tuple[str, int]]

def patch(
    *,
    resolver: Optional[str] = ...,
    resolv_conf: str = ...,
    hosts: str = ...,
    nsswitch: str = ...,
    nameservers: Optional[Iterable[_Nameserver]] = ...,
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
