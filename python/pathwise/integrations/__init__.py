"""Integrations with the libraries decision pipelines are built with. Each is an optional
extra: importing ``pathwise`` never imports them, and each module imports its library only
when it is itself imported.

- :mod:`pathwise.integrations.langchain`: a LangChain callback handler
  (``pip install 'pathwise[langchain]'``).
- :mod:`pathwise.integrations.openai`: a wrapper for the OpenAI client's chat calls
  (``pip install 'pathwise[openai]'``).

Example::

    from pathwise.integrations.langchain import PathwiseCallbackHandler
    chain.invoke({"question": "..."}, config={"callbacks": [PathwiseCallbackHandler()]})
"""
